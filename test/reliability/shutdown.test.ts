/**
 * Scenario 7, shutdown under `next start` (Next.js 16, a real build of
 * test/fixtures/next-shutdown-app: a Pages API route with next-connect, an
 * App Router route handler, instrumentation.js). Six slow requests are in
 * flight (pg_sleep, then a second query) when SIGTERM lands.
 *
 * - with `closeOnShutdown()` from instrumentation: every in-flight request
 *   finishes with 200, and the pools are closed before the process ends:
 *   PostgreSQL counts no session of the app as abandoned (a session whose
 *   client went away without the protocol's Terminate message,
 *   pg_stat_database.sessions_abandoned, in a database of the test's own);
 * - control, Next.js alone: Next 16 already lets in-flight requests finish
 *   (it closes its HTTP server first), then exits without closing the pools:
 *   every session of the app is abandoned (the process exit drops them), so
 *   "0 connections afterwards" alone would not tell the two apart;
 * - control, the usual hand-written hook (`await pool.close(); process.exit(0)`):
 *   the pool is closed under the requests in flight, which fail.
 *
 * And without Next.js (a custom server where closeOnShutdown() is the only
 * SIGTERM handler): it drains, closes, then lets the signal end the process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage } from "../support/build.js";
import { startFaultApp } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { buildNextFixture, nextStart } from "../support/next-app.js";
import pg from "pg";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/shutdown.test.ts";
const IN_FLIGHT_PER_ROUTER = 3;
const SLEEP_S = 2;

let app: { dir: string; remove(): Promise<void> };
afterAll(async () => {
  await closeAdmin();
});

type Mode = "package" | "none" | "naive";

/** A database of the test's own, so pg_stat_database's session counts are this app's alone. */
async function privateDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(await postgresUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      await adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
      await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
    },
  };
}

/**
 * Sessions of `db` that ended without the client's Terminate message (the
 * process went away instead of closing its pool), and all sessions opened.
 * A backend publishes its end after leaving pg_stat_activity, so a sentinel
 * session is opened and dropped the same way last: once it is counted, every
 * earlier session's end is too.
 */
async function abandonedSessions(db: { name: string; url: string }): Promise<{ abandoned: number; sessions: number }> {
  const read = async () => {
    const rows = await adminQuery<{ sessions: string; abandoned: string }>(
      "SELECT sessions, sessions_abandoned AS abandoned FROM pg_stat_database WHERE datname = $1",
      [db.name],
    );
    return { sessions: Number(rows[0]!.sessions), abandoned: Number(rows[0]!.abandoned) };
  };
  const before = await read();
  const sentinel = new pg.Client({ connectionString: db.url, application_name: "ndc_shutdown_sentinel" });
  sentinel.on("error", () => {});
  await sentinel.connect();
  await sentinel.query("SELECT 1");
  (sentinel as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  const after = await waitFor(read, (r) => r.abandoned > before.abandoned, 10_000, 50);
  expect(after.abandoned, "the sentinel's abandoned session was counted").toBeGreaterThan(before.abandoned);
  return { abandoned: after.abandoned - 1, sessions: after.sessions - 1 };
}

async function sigtermWithRequestsInFlight(mode: Mode) {
  const name = uniqueName(`ndc_shutdown_${mode}`);
  const db = await privateDatabase(`ndc_shutdown_${mode}`);
  const server = await nextStart(app.dir, { NDC_PG_URL: db.url, NDC_APP: name, NDC_SHUTDOWN: mode });
  try {
    for (const path of ["/api/slow?s=0", "/api/app-slow?s=0"]) expect((await fetch(server.url + path)).status).toBe(200);
    const started = performance.now();
    const requests = ["/api/slow", "/api/app-slow"].flatMap((path) =>
      Array.from({ length: IN_FLIGHT_PER_ROUTER }, async () => {
        try {
          const res = await fetch(`${server.url}${path}?s=${SLEEP_S}`, { signal: AbortSignal.timeout(20_000) });
          await res.text();
          return { status: String(res.status), ms: performance.now() - started };
        } catch (err) {
          return { status: (err as Error).name === "TimeoutError" ? "timeout" : "error", ms: performance.now() - started };
        }
      }),
    );
    // On the server: every request is inside its pg_sleep now.
    const sleeping = await waitFor(
      async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [name]))[0]!.n),
      (n) => n >= IN_FLIGHT_PER_ROUTER * 2,
      10_000,
    );
    const before = await pgConnectionCount(name);
    let alive = true;
    void server.exited.then(() => (alive = false));
    // Whether the server saw the app's connections go while the process still ran (a count read that returned before the exit).
    const zeroWhileAlive = (async () => {
      while (alive) {
        const n = await pgConnectionCount(name);
        if (n === 0 && alive) return true;
        await sleep(20);
      }
      return false;
    })();
    const sigtermAt = performance.now();
    server.child.kill("SIGTERM");
    const results = await Promise.all(requests);
    const exit = await server.exited;
    const exitMs = performance.now() - sigtermAt;
    const after = await waitFor(() => pgConnectionCount(name), (n) => n === 0, 5000);
    const { abandoned, sessions } = await abandonedSessions(db);
    const statuses = countStatuses(results.map((r) => r.status));
    return {
      sleeping, before, statuses, exit, exitMs, after, abandoned, sessions, zeroWhileAlive: await zeroWhileAlive,
      output: server.output(), maxMs: Math.max(...results.map((r) => r.ms)),
    };
  } finally {
    server.kill();
    await db.drop();
  }
}

function record(id: string, scenario: string, r: Awaited<ReturnType<typeof sigtermWithRequestsInFlight>>, notes: string) {
  recordFigures(id, {
    scenario,
    database: "PostgreSQL",
    load: `${IN_FLIGHT_PER_ROUTER * 2} requests in flight (Pages API + App Router, pg_sleep(${SLEEP_S}) then a second query)`,
    faults: "SIGTERM to next start",
    requests: IN_FLIGHT_PER_ROUTER * 2,
    statuses: r.statuses,
    crashes: 0,
    unhandledRejections: 0,
    maxLatencyMs: Math.round(r.maxMs),
    recoveryMs: null,
    leaks: r.abandoned,
    notes:
      `${notes}; exit ${r.exit.code ?? r.exit.signal} ${Math.round(r.exitMs)} ms after SIGTERM; ${r.before} connections before, ${r.after} after; ` +
      `sessions abandoned without Terminate: ${r.abandoned} of ${r.sessions}; server count reached 0 while the process ran: ${r.zeroWhileAlive ? "yes" : "no"}`,
    command: COMMAND,
  });
}

describe("SIGTERM under next start", () => {
  beforeAll(async () => {
    app = await buildNextFixture("next-shutdown-app");
  }, 240_000);
  afterAll(async () => {
    await app?.remove();
  });

  it("closeOnShutdown(): in-flight requests finish, then the pools close before the process ends: no session abandoned", async () => {
    const r = await sigtermWithRequestsInFlight("package");
    const closedLine = /SIGTERM: database pools closed/.test(r.output);
    record("7-shutdown-pg", "7. Shutdown (closeOnShutdown)", r, `pools closed before exit: ${closedLine ? "yes" : "no"}`);
    expect(r.sleeping).toBeGreaterThanOrEqual(IN_FLIGHT_PER_ROUTER * 2);
    expect(r.statuses).toEqual({ "200": IN_FLIGHT_PER_ROUTER * 2 });
    expect(r.output).toMatch(/SIGTERM: waiting for \d+ request\(s\) in flight/);
    expect(closedLine).toBe(true);
    // The server's view: every session the app opened ended with Terminate, none was dropped by the exit.
    expect(r.sessions).toBeGreaterThanOrEqual(IN_FLIGHT_PER_ROUTER * 2);
    expect(r.abandoned).toBe(0);
    expect(r.after).toBe(0);
  }, 60_000);

  it("control: Next.js alone lets in-flight requests finish but exits without closing the pools: the exit drops every session", async () => {
    const r = await sigtermWithRequestsInFlight("none");
    const closedLine = /database pools closed/.test(r.output);
    record("7-shutdown-pg-control-none", "7. Shutdown (control: Next.js's own SIGTERM handling)", r, `pools closed before exit: ${closedLine ? "yes" : "no"}`);
    expect(r.statuses).toEqual({ "200": IN_FLIGHT_PER_ROUTER * 2 });
    expect(closedLine).toBe(false);
    expect(r.exit.code).toBe(143);
    // What the package's test asserts is absent happens here: the server counts the app's sessions as abandoned.
    expect(r.abandoned).toBeGreaterThanOrEqual(IN_FLIGHT_PER_ROUTER * 2);
  }, 60_000);

  it("control: the usual `await close(); process.exit(0)` hook cuts the requests in flight", async () => {
    const r = await sigtermWithRequestsInFlight("naive");
    record("7-shutdown-pg-control-naive", "7. Shutdown (control: hand-written close-and-exit hook)", r, "the pool closed under the requests in flight");
    expect(r.statuses["200"] ?? 0).toBeLessThan(IN_FLIGHT_PER_ROUTER * 2);
  }, 60_000);
});

describe("SIGTERM in a custom server (closeOnShutdown is the only handler)", () => {
  it("drains the requests in flight, refuses new ones with 503 and Connection: close, closes the pools (no session abandoned), then the process ends by SIGTERM", async () => {
    const build = await buildPackage();
    const name = uniqueName("ndc_shutdown_custom");
    const db = await privateDatabase("ndc_shutdown_custom");
    const app = await startFaultApp({ build, driver: "pg", url: db.url, app: name, max: 5, closeOnShutdown: true });
    try {
      const requests = Array.from({ length: 5 }, () => fetch(`${app.url}/slow?s=3`).then((r) => r.status, () => "error"));
      await waitFor(
        async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [name]))[0]!.n),
        (n) => n >= 5,
        10_000,
      );
      const exited = app.signal("SIGTERM");
      // While the drain waits for the five: a new request is refused at once, and told to go elsewhere.
      await waitFor(() => app.stdout(), (t) => /SIGTERM: waiting for 5 request\(s\) in flight/.test(t), 10_000);
      const late = await fetch(`${app.url}/q`);
      expect([late.status, late.headers.get("connection"), late.headers.get("retry-after")]).toEqual([503, "close", "1"]);
      expect(await late.json()).toMatchObject({ error: "database_unavailable" });
      const exit = await exited;
      const statuses = await Promise.all(requests);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(app.stdout()).toMatch(/SIGTERM: waiting for 5 request\(s\) in flight/);
      expect(app.stdout()).toContain("SIGTERM: database pools closed");
      expect(exit.signal).toBe("SIGTERM");
      expect(await waitFor(() => pgConnectionCount(name), (n) => n === 0, 5000)).toBe(0);
      // Without the drain the default SIGTERM would have killed the process under its requests, dropping every session.
      const { abandoned, sessions } = await abandonedSessions(db);
      expect(sessions).toBeGreaterThanOrEqual(5);
      expect(abandoned).toBe(0);
    } finally {
      await app.stop();
      await build.remove();
      await db.drop();
    }
  }, 60_000);
});
