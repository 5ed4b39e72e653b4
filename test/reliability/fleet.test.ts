/**
 * Scenario 21, a fleet. K = 1, 5, 10, 20 app processes (test/fixtures/fleet-app.mjs,
 * each with the package, the pg adapter and a pool of max 10) share one
 * private PostgreSQL with max_connections 40 (37 for the app's role: 3 are
 * reserved for superusers), under a bounded load: 10 closed-loop clients per
 * process, each request holding its connection for a 100 ms query. Processes
 * join one at a time; at each K a window of load is measured.
 *
 * Four ways to reach the server, one after the other on the same processes:
 * - `plain` (CONTROL): a hand-written module-scope pg.Pool, straight to the
 *   server: past 37 connections its requests fail with 53300 as 500s;
 * - `direct`: the package straight to the server: past 37 connections it
 *   answers 503 saturated with Retry-After, never a crash, never a cooldown
 *   (each process's stats().state is watched through its /report), and the
 *   pools that hold connections keep serving (ours must keep pace with plain);
 * - `transaction`: through PgBouncer, pool_mode=transaction, 20 server
 *   connections: every K is served, the server never sees more than 20;
 * - `session`: through PgBouncer, pool_mode=session, 20 server connections:
 *   a client connection keeps its server connection, so past 20 the rest wait
 *   for PgBouncer's query_wait_timeout and get 503 saturated.
 *
 * Figures per mode and K (requests ok and failed, statuses and reasons, the
 * server's peak from pg_stat_activity, PgBouncer's SHOW POOLS and SHOW STATS,
 * the package's log, where the connection-budget warning fired) go to
 * test/artifacts/fleet/, from which `node scripts/scaling-report.mjs`
 * renders docs/SCALING.md.
 *
 * Skipped, with the reason printed, when no pgbouncer binary is installed
 * (test/fleet-skip.test.ts checks that path).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, type Build } from "../support/build.js";
import { recordFigures } from "../support/figures.js";
import { FleetLoad, startInstance, type FleetInstance, type InstanceReport, type WindowCounts } from "../support/fleet.js";
import { FLEET_MODES, recordFleetFigures, type FleetBudget, type FleetMode, type FleetRow } from "../support/fleet-figures.js";
import { findPgbouncer, startPgbouncer, type Pgbouncer } from "../support/pgbouncer.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { sleep, waitFor } from "../support/wait.js";

const lookup = findPgbouncer();
if (!lookup.found) console.log(`[skip] fleet scenario (test/reliability/fleet.test.ts): ${lookup.reason}`);

const KS = [1, 5, 10, 20];
const MAX_CONNECTIONS = 40;
const POOL_MAX = 10;
const CLIENTS_PER_INSTANCE = 10;
const QUERY_S = 0.1;
const WINDOW_MS = 3000;
const BOUNCER_POOL = 20;
/** Below the app's query_timeout (10 s): a full pooler answers with its own error in time. */
const QUERY_WAIT_TIMEOUT_S = { transaction: 5, session: 2 } as const;
const ROLE = "fleet";
const ROLE_PASSWORD = "fleet-Secret-pw-9";
const APP = "ndc_fleet";
const COMMAND = "npx vitest run test/reliability/fleet.test.ts";

describe.skipIf(!lookup.found)("fleet: K processes × pool max 10 against max_connections 40", () => {
  let build: Build;
  let server: PrivatePostgres;
  let admin: pg.Client;
  let limit = 0;
  const bouncers: Partial<Record<"transaction" | "session", Pgbouncer>> = {};
  const instances: FleetInstance[] = [];
  const results = new Map<FleetMode, { rows: FleetRow[]; budget: FleetBudget | null; reports: InstanceReport[]; statesSeen: Set<string> }>();
  const started = Date.now();
  const timings: string[] = [];

  beforeAll(async () => {
    [build, server] = await Promise.all([buildPackage(), startPrivatePostgres({ max_connections: String(MAX_CONNECTIONS) }, { authMethod: "scram-sha-256" })]);
    admin = new pg.Client({ connectionString: server.url, application_name: "ndc_fleet_admin" });
    admin.on("error", () => {});
    await admin.connect();
    await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE_PASSWORD}'`);
    await admin.query(`CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
    const { rows } = await admin.query<{ n: number }>(
      "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int" +
        " - coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS n",
    );
    limit = rows[0]!.n;
    for (const mode of ["transaction", "session"] as const) {
      bouncers[mode] = await startPgbouncer({
        binary: (lookup as { path: string }).path,
        server: { host: "127.0.0.1", port: server.port },
        databases: { [ROLE]: { dbname: ROLE, poolMode: mode } },
        users: [{ name: ROLE, password: ROLE_PASSWORD }],
        poolSize: BOUNCER_POOL,
        maxClientConn: 1000,
        queryWaitTimeout: QUERY_WAIT_TIMEOUT_S[mode],
      });
    }
    const direct = `postgres://${ROLE}:${ROLE_PASSWORD}@127.0.0.1:${server.port}/${ROLE}`;
    const targets = { plain: direct, direct, transaction: bouncers.transaction!.url(ROLE), session: bouncers.session!.url(ROLE) };
    // Started a few at a time: twenty Node processes booting at once on two shared cores take longer than in turn.
    for (let i = 0; i < KS.at(-1)!; i += 5) {
      instances.push(...(await Promise.all([0, 1, 2, 3, 4].map((j) => startInstance(i + j, { build, targets, app: APP, max: POOL_MAX, querySeconds: QUERY_S })))));
    }
    timings.push(`set-up ${Math.round((Date.now() - started) / 1000)} s`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    for (const b of Object.values(bouncers)) await b?.stop();
    await admin?.end().catch(() => {});
    await server?.destroy();
    await build?.remove();
    if (results.size === FLEET_MODES.length) recordReliabilityRow();
    console.log(`fleet scenario: ${Math.round((Date.now() - started) / 1000)} s (${timings.join(", ")})`);
  });

  /** The app role's server connections (what the fleet, or PgBouncer for it, holds), and every client backend. */
  async function serverCounts(): Promise<{ app: number; total: number }> {
    const { rows } = await admin.query<{ app: number; total: number }>(
      "SELECT count(*) FILTER (WHERE usename = $1)::int AS app, count(*)::int AS total FROM pg_stat_activity WHERE backend_type = 'client backend'",
      [ROLE],
    );
    return rows[0]!;
  }

  interface PoolsRow { cl_active: string; cl_waiting: string; sv_active: string; sv_idle: string; sv_used: string; sv_tested: string; sv_login: string; maxwait: string; database: string }
  interface StatsRow { database: string; total_xact_count: string; total_wait_time: string }

  async function bouncerTotals(b: Pgbouncer): Promise<{ xacts: number; waitUs: number }> {
    const row = (await b.admin<StatsRow>("SHOW STATS")).find((r) => r.database === ROLE);
    return { xacts: Number(row?.total_xact_count ?? 0), waitUs: Number(row?.total_wait_time ?? 0) };
  }

  /** Samples the server and PgBouncer while a window runs; every process's state too. */
  function sampleWindow(mode: FleetMode, joined: FleetInstance[], statesSeen: Set<string>) {
    const b = mode === "transaction" || mode === "session" ? bouncers[mode]! : null;
    const peak = { server: 0, clients: 0, waiting: 0, servers: 0, maxwaitS: 0 };
    let running = true;
    const loops = [
      (async () => {
        while (running) {
          peak.server = Math.max(peak.server, (await serverCounts()).app);
          if (b) {
            const row = (await b.admin<PoolsRow>("SHOW POOLS")).find((r) => r.database === ROLE);
            if (row) {
              const n = (k: keyof PoolsRow) => Number(row[k]);
              peak.clients = Math.max(peak.clients, n("cl_active") + n("cl_waiting"));
              peak.waiting = Math.max(peak.waiting, n("cl_waiting"));
              peak.servers = Math.max(peak.servers, n("sv_active") + n("sv_idle") + n("sv_used") + n("sv_tested") + n("sv_login"));
              peak.maxwaitS = Math.max(peak.maxwaitS, n("maxwait"));
            }
          }
          await sleep(100);
        }
      })(),
      (async () => {
        while (running && mode !== "plain") {
          for (const r of await Promise.all(joined.map((i) => i.report()))) statesSeen.add(r.stats[mode]!.state);
          await sleep(500);
        }
      })(),
    ];
    return {
      async stop() {
        running = false;
        await Promise.all(loops);
        return peak;
      },
    };
  }

  async function runMode(mode: FleetMode): Promise<void> {
    const load = new FleetLoad(mode, CLIENTS_PER_INSTANCE, 200, 25_000);
    const t0 = Date.now();
    try {
      await measureMode(mode, load);
    } finally {
      const measured = Date.now();
      // Whatever failed, the next mode starts from an empty server.
      await load.stop();
      await Promise.all(instances.map((i) => i.close(mode).catch(() => {})));
      const b = mode === "transaction" || mode === "session" ? bouncers[mode] : undefined;
      // PgBouncer keeps its server connections for reuse: this mode is done with them.
      if (b) await b.admin(`KILL ${ROLE}`).catch(() => {});
      await waitFor(async () => (await serverCounts()).app, (n) => n === 0, 20_000, 100);
      timings.push(`${mode} ${Math.round((measured - t0) / 1000)} s + ${Math.round((Date.now() - measured) / 1000)} s to stop`);
    }
  }

  async function measureMode(mode: FleetMode, load: FleetLoad): Promise<void> {
    const b = mode === "transaction" || mode === "session" ? bouncers[mode]! : null;
    const rows: FleetRow[] = [];
    const statesSeen = new Set<string>();
    /**
     * Every client backend on the server just before each process joined: what
     * its budget check reads as "others" (the control has no check: not read,
     * which spares a busy server that query).
     */
    const usageAtJoin: Array<number | null> = [];
    let joining = 0;
    let countMs = 0;
    let windows = 0;
    for (const k of KS) {
      const joinStart = Date.now();
      while (usageAtJoin.length < k) {
        const instance = instances[usageAtJoin.length]!;
        const t = Date.now();
        usageAtJoin.push(mode === "plain" ? null : (await serverCounts()).total);
        countMs += Date.now() - t;
        const first = load.join(instance);
        // Straight to the server, where the budget check's reading matters, each
        // process joins once the previous one connected (at its first answer) and filled its pool.
        if (mode === "direct") {
          await Promise.race([first, sleep(3000)]);
          // Its budget reading runs in the background, once its pool has an idle connection (a second
          // or more after the connect, longer under load): the next process joins after it has read,
          // so that what it read is the fleet sampled above, not one that grew meanwhile.
          if (load.firstStatus.get(instance.index) === "200") await waitFor(() => instance.report(), (r) => budgetRead(r, mode), 15_000, 100);
        }
        await sleep(mode === "direct" ? 150 : 50);
      }
      joining += Date.now() - joinStart;
      const windowStart = Date.now();
      const joined = instances.slice(0, k);
      load.take();
      const before = b ? await bouncerTotals(b) : null;
      const sampler = sampleWindow(mode, joined, statesSeen);
      const t0 = Date.now();
      await sleep(WINDOW_MS);
      const counts: WindowCounts = load.take();
      const seconds = (Date.now() - t0) / 1000;
      const peak = await sampler.stop();
      const after = b ? await bouncerTotals(b) : null;
      const reports = await Promise.all(joined.map((i) => i.report()));
      rows.push(fleetRow(mode, k, counts, seconds, peak, before, after, reports, joined));
      windows += Date.now() - windowStart;
    }
    const answers = [...load.firstAnswerMs.values()].sort((a, b) => a - b);
    timings.push(
      `${mode}: joins ${Math.round(joining / 1000)} s (server counts ${Math.round(countMs / 1000)} s, ` +
        `first answers median ${answers[answers.length >> 1] ?? "?"} ms, max ${answers.at(-1) ?? "?"} ms), windows ${Math.round(windows / 1000)} s`,
    );
    const reports = await Promise.all(instances.map((i) => i.report()));
    const budget = mode === "plain" ? null : budgetOf(mode, reports, usageAtJoin as number[], load.firstStatus);
    results.set(mode, { rows, budget, reports, statesSeen });
    for (const row of rows) recordFleetFigures(row);
    if (budget) recordFleetFigures(budget);
  }

  function fleetRow(
    mode: FleetMode, k: number, counts: WindowCounts, seconds: number,
    peak: { server: number; clients: number; waiting: number; servers: number; maxwaitS: number },
    before: { xacts: number; waitUs: number } | null, after: { xacts: number; waitUs: number } | null,
    reports: InstanceReport[], joined: FleetInstance[],
  ): FleetRow {
    const ok = counts.statuses["200"] ?? 0;
    const requests = Object.values(counts.statuses).reduce((a, n) => a + n, 0);
    const xacts = before && after ? after.xacts - before.xacts : null;
    return {
      kind: "window",
      mode,
      k,
      poolMax: POOL_MAX,
      serverLimit: limit,
      clients: k * CLIENTS_PER_INSTANCE,
      seconds: Math.round(seconds * 10) / 10,
      requests,
      ok,
      failed: requests - ok,
      okPerSecond: Math.round(ok / seconds),
      statuses: counts.statuses,
      reasons: counts.reasons,
      retryAfter: counts.retryAfter,
      maxLatencyMs: counts.maxLatencyMs,
      serverPeak: peak.server,
      bouncer: before && after
        ? {
            poolSize: BOUNCER_POOL,
            clientsPeak: peak.clients,
            waitingPeak: peak.waiting,
            serversPeak: peak.servers,
            maxwaitS: peak.maxwaitS,
            xacts: xacts!,
            avgWaitMs: xacts ? Math.round((after.waitUs - before.waitUs) / xacts / 100) / 10 : 0,
          }
        : null,
      states: [...new Set(reports.map((r) => r.stats[mode]?.state ?? "none"))],
      crashes: joined.reduce((n, i) => n + i.crashes(), 0),
      unhandledRejections: reports.reduce((n, r) => n + r.unhandledRejections, 0),
      log: logSummary(reports, mode),
      command: COMMAND,
    };
  }

  /** The package's (or the control's) log lines over the joined processes, most frequent first. */
  function logSummary(reports: InstanceReport[], mode: FleetMode): Array<{ level: string; count: number; line: string }> {
    const merged = new Map<string, { level: string; count: number; line: string }>();
    for (const r of reports) {
      for (const [key, entry] of Object.entries(r.log[mode] ?? {})) {
        const m = merged.get(key) ?? { level: entry.level, count: 0, line: entry.first };
        m.count += entry.count;
        merged.set(key, m);
      }
    }
    return [...merged.values()].filter((l) => l.level !== "info" || l.line.includes("budget") || l.line.includes("pooler")).sort((a, b) => b.count - a.count).slice(0, 8);
  }

  /** The process's budget reading has run: a warning, or (below the threshold) its debug line, or a line saying it was skipped. */
  function budgetRead(report: InstanceReport, mode: FleetMode): boolean {
    return Object.keys(report.log[mode] ?? {}).some((key) => key.includes(": connection budget"));
  }

  /** Which processes warned about the connection budget, and what each read when it joined. */
  function budgetOf(mode: FleetMode, reports: InstanceReport[], usageAtJoin: number[], firstStatus: Map<number, string>): FleetBudget {
    const warned = reports.map((r) => Object.entries(r.log[mode] ?? {}).some(([key, line]) => line.level === "warn" && key.includes("connection budget:")));
    const poolerLines = reports.filter((r) => Object.keys(r.log[mode] ?? {}).some((key) => key.includes("connection budget: connections go through a pooler"))).length;
    const firstWarned = warned.indexOf(true);
    const threshold = 0.8 * limit;
    return {
      kind: "budget",
      mode,
      serverLimit: limit,
      threshold,
      poolMax: POOL_MAX,
      instances: usageAtJoin.map((others, i) => ({
        k: i + 1,
        othersAtJoin: others,
        projected: others + POOL_MAX,
        // A connect refused at the limit runs no check; a later one reads a full server.
        connectedAtJoin: firstStatus.get(i) === "200",
        warned: warned[i]!,
      })),
      firstWarnedAtK: firstWarned === -1 ? null : firstWarned + 1,
      poolerInfoLines: poolerLines,
      command: COMMAND,
    };
  }

  function recordReliabilityRow(): void {
    const direct = results.get("direct")!;
    const statuses: Record<string, number> = {};
    for (const row of direct.rows) for (const [s, n] of Object.entries(row.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    const at = (mode: FleetMode, k: number) => results.get(mode)!.rows.find((r) => r.k === k)!;
    const max = KS.at(-1)!;
    const describe = (mode: FleetMode) => {
      const r = at(mode, max);
      return `${mode} K=${max}: ${r.ok} ok, ${r.failed} failed (${Object.entries(r.reasons).map(([k, n]) => `${k}: ${n}`).join(", ") || "none"}), server peak ${r.serverPeak}`;
    };
    recordFigures("21-fleet-pg", {
      scenario: "21. Fleet past max_connections",
      database: "PostgreSQL",
      load: `K = ${KS.join(", ")} processes × ${CLIENTS_PER_INSTANCE} clients, ${WINDOW_MS / 1000} s window per K, ${QUERY_S * 1000} ms queries`,
      faults: `max_connections ${MAX_CONNECTIONS} (${limit} for the app role), pool max ${POOL_MAX} per process; PgBouncer ${BOUNCER_POOL} server connections`,
      requests: direct.rows.reduce((n, r) => n + r.requests, 0),
      statuses,
      crashes: direct.rows.reduce((n, r) => Math.max(n, r.crashes), 0),
      unhandledRejections: direct.rows.reduce((n, r) => Math.max(n, r.unhandledRejections), 0),
      maxLatencyMs: Math.max(...direct.rows.map((r) => r.maxLatencyMs)),
      recoveryMs: null,
      leaks: null,
      notes:
        `the package straight to the server (statuses summed over K); states seen ${[...direct.statesSeen].join("/")}; ` +
        `budget warning first at K=${direct.budget?.firstWarnedAtK ?? "never"}; ${describe("plain")} (CONTROL, hand-written pool); ` +
        `${describe("direct")}; ${describe("transaction")}; ${describe("session")}; full table: docs/SCALING.md`,
      command: COMMAND,
    });
  }

  it("plain (CONTROL): a hand-written pool per process, straight to the server: past the limit, 500s with 53300", async () => {
    await runMode("plain");
    const { rows } = results.get("plain")!;
    const top = rows.at(-1)!;
    expect(top.crashes).toBe(0);
    // The naive pattern fails the way it is known to: the server's refusal reaches the user as a 500.
    expect(top.reasons["500 53300"] ?? 0).toBeGreaterThan(0);
    for (const row of rows) expect(row.serverPeak).toBeLessThanOrEqual(limit);
  }, 400_000);

  it("direct: the package answers 503 saturated with Retry-After past the limit, never a crash or a cooldown, and keeps pace with the plain pool", async () => {
    await runMode("direct");
    const { rows, statesSeen, reports } = results.get("direct")!;
    const plain = results.get("plain")?.rows;
    for (const row of rows) {
      expect(row.crashes).toBe(0);
      expect(row.unhandledRejections).toBe(0);
      // Every answer is a 200 or a 503 saturated, and every 503 says when to come back.
      expect(Object.keys(row.statuses).filter((s) => s !== "200" && s !== "503")).toEqual([]);
      expect(Object.keys(row.reasons).filter((r) => r !== "503 saturated")).toEqual([]);
      expect(row.retryAfter).toBe(row.statuses["503"] ?? 0);
      expect(row.serverPeak).toBeLessThanOrEqual(limit);
    }
    // Keeping pace, where the server is full (K past 37 / 10): the windows run one after the
    // other on a shared machine, so the comparison is over all of them, with a margin for drift.
    if (plain) {
      const saturated = (rs: FleetRow[]) => rs.filter((r) => r.k * POOL_MAX > limit).reduce((n, r) => n + r.ok, 0);
      expect(saturated(rows)).toBeGreaterThanOrEqual(0.7 * saturated(plain));
    }
    // The fleet did run out: the guarantee was exercised, not avoided.
    expect(rows.at(-1)!.reasons["503 saturated"] ?? 0).toBeGreaterThan(0);
    // A full server is a busy database, not a down one: no process ever went into a cooldown.
    expect([...statesSeen].filter((s) => s === "unavailable" || s === "checking")).toEqual([]);
    for (const r of reports) expect(r.stats.direct).toMatchObject({ failures: 0 });
  }, 400_000);

  it("direct: the budget warning fires at the process whose max, added to what the fleet already holds, passes 80% of the limit, before the fleet runs out", () => {
    const { rows } = results.get("direct")!;
    const budget = results.get("direct")!.budget!;
    for (const instance of budget.instances) {
      // Usage moves by a connection or two between the sample and the process's own reading.
      if (!instance.connectedAtJoin || Math.abs(instance.projected - budget.threshold) < 2) continue;
      expect({ k: instance.k, warned: instance.warned }).toEqual({ k: instance.k, warned: instance.projected > budget.threshold });
    }
    expect(budget.firstWarnedAtK).not.toBeNull();
    const firstSaturated = rows.find((r) => (r.reasons["503 saturated"] ?? 0) > 0)!.k;
    expect(budget.firstWarnedAtK!).toBeLessThanOrEqual(firstSaturated);
  });

  for (const mode of ["transaction", "session"] as const) {
    it(`${mode}: through PgBouncer the server never sees more than its pool; the package never warns about a budget it cannot reach`, async () => {
      await runMode(mode);
      const { rows, statesSeen } = results.get(mode)!;
      const budget = results.get(mode)!.budget!;
      for (const row of rows) {
        expect(row.crashes).toBe(0);
        expect(row.unhandledRejections).toBe(0);
        expect(row.serverPeak).toBeLessThanOrEqual(BOUNCER_POOL);
        expect(row.bouncer!.serversPeak).toBeLessThanOrEqual(BOUNCER_POOL);
        expect(Object.keys(row.reasons).filter((r) => r !== "503 saturated")).toEqual([]);
        expect(row.ok).toBeGreaterThan(0);
        if (mode === "transaction") expect(row.failed).toBeLessThanOrEqual(row.requests * 0.01);
      }
      // Session pooling pins a server connection per client connection: past the pool, clients wait and get 503 saturated.
      if (mode === "session") expect(rows.at(-1)!.reasons["503 saturated"] ?? 0).toBeGreaterThan(0);
      expect([...statesSeen].filter((s) => s === "unavailable" || s === "checking")).toEqual([]);
      expect(budget.firstWarnedAtK).toBeNull();
      expect(budget.poolerInfoLines).toBeGreaterThan(0);
    }, 400_000);
  }
});
