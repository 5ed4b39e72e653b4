/**
 * Scenario 9, saturation on a healthy database. A small pool, more clients
 * than connections for several seconds, every request holding its connection
 * on the server for a while: the database is up and busy, nothing else.
 *
 * Guarantee: the package serves as many 200s as a plain hand-written pool
 * behind the same router in the same run (both count only what completed
 * while the clients were sending); a request that cannot get a connection in
 * time gets 503 with `Retry-After` and `reason: "saturated"`, and only after
 * it really waited for that time (no fast-fail storm); `stats().state` stays
 * `connected` (sampled every 20 ms inside the app), `stats().saturated`
 * counts exactly the 503s, no log line calls the database unreachable, the
 * server never sees more than the pool's max, and a readiness endpoint built
 * on `health()` answers 200 ("busy") throughout.
 *
 * Control, in the same run: the plain pool's failures are the app's 500 (pg,
 * MongoDB) or unbounded waits (mysql2 has no limit on its queue), and the
 * usual readiness check (`SELECT 1` under a 2 s timeout) calls the busy
 * database down.
 *
 * The numbers differ per database (pool size, clients, hold time, wait bound,
 * router style), so nothing here is tuned to one case; what each assertion
 * expects is derived from its case.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedLoop, count, once, statusCounts, withinWindow, type Answered } from "../support/closed-loop.js";
import { recordFigures } from "../support/figures.js";
import { OUTAGE_LINE, startLoadApp, statesBetween, type LoadRouter } from "../support/load-app.js";
import { loadTarget, samplePeak, type LoadTarget } from "../support/load-targets.js";
import { uniqueName } from "../support/postgres.js";
import { builtPackageForFile } from "../support/shared-targets.js";
import type { Driver } from "../support/fault-app.js";

const COMMAND = "npx vitest run test/reliability/saturation.test.ts";
const HEALTH_EVERY_MS = 1000;

interface Case {
  driver: Driver;
  router: Exclude<LoadRouter, "plain" | "per-request">;
  pool: number;
  clients: number;
  holdMs: number;
  /** The longest wait for a pooled connection. */
  waitMs: number;
  seconds: number;
  /** How the wait is bounded: for pg the driver's own option (what the user of the issue set), elsewhere acquireTimeoutMs. */
  bound: "connectionTimeoutMillis" | "acquireTimeoutMs";
}

const CASES: Case[] = [
  { driver: "pg", router: "v1", pool: 2, clients: 16, holdMs: 500, waitMs: 3000, seconds: 7, bound: "connectionTimeoutMillis" },
  { driver: "mysql2", router: "api", pool: 3, clients: 24, holdMs: 400, waitMs: 2500, seconds: 6, bound: "acquireTimeoutMs" },
  { driver: "mongodb", router: "route", pool: 2, clients: 12, holdMs: 600, waitMs: 2000, seconds: 6, bound: "acquireTimeoutMs" },
];

const pkg = builtPackageForFile();

describe.each(CASES)("saturation: $driver, pool $pool, $clients clients, $holdMs ms each, wait $waitMs ms, $router", (c) => {
  let target: LoadTarget;
  beforeAll(async () => {
    target = await loadTarget(c.driver);
  });
  afterAll(async () => {
    await target?.teardown();
  });

  it("as many 200s as a plain pool; 503 saturated only after the wait; state connected; readiness 200", async () => {
    const oursName = uniqueName(`ndc_sat_${c.driver}`);
    const plainName = uniqueName(`ndc_sat_plain_${c.driver}`);
    const [oursAt, plainAt] = await Promise.all([target.endpoint(oursName), target.endpoint(plainName)]);
    // pg: both get the driver option the user set. mysql2: the plain pool has no bound to give.
    // MongoDB: the plain client gets the same bound as the driver's own waitQueueTimeoutMS.
    const driverBound = c.bound === "connectionTimeoutMillis" ? { connectionTimeoutMillis: c.waitMs } : {};
    const plainBound = c.driver === "mongodb" ? { waitQueueTimeoutMS: c.waitMs } : driverBound;
    const ours = await startLoadApp({
      build: pkg.build, driver: c.driver, url: oursAt.url, app: oursName, router: c.router, max: c.pool,
      driverOptions: driverBound, dbOptions: c.bound === "acquireTimeoutMs" ? { acquireTimeoutMs: c.waitMs } : {},
    });
    const plain = await startLoadApp({
      build: pkg.build, driver: c.driver, url: plainAt.url, app: plainName, router: "plain", max: c.pool, driverOptions: plainBound,
    });
    try {
      // Connected and warm before the clock starts.
      expect((await once(`${ours.url}/q`)).status).toBe(200);
      expect((await once(`${plain.url}/q`)).status).toBe(200);
      const before = await ours.read();

      const oursHealth: Answered[] = [];
      const plainHealth: Answered[] = [];
      let loading = true;
      const probes = (async () => {
        while (loading) {
          await new Promise((r) => setTimeout(r, HEALTH_EVERY_MS));
          if (!loading) break;
          const [o, p] = await Promise.all([once(`${ours.url}/health`), once(`${plain.url}/health`)]);
          oursHealth.push(o);
          plainHealth.push(p);
        }
      })();
      const oursPeak = samplePeak(oursAt.serverCount, 200);
      const path = `/hold?ms=${c.holdMs}`;
      const [o, p] = await Promise.all([
        closedLoop(`${ours.url}${path}`, { clients: c.clients, seconds: c.seconds }),
        closedLoop(`${plain.url}${path}`, { clients: c.clients, seconds: c.seconds }),
      ]);
      loading = false;
      await probes;
      const peak = await oursPeak.stop();
      const after = await ours.read();
      const plainReport = await plain.read();

      const ours200 = count(withinWindow(o), 200);
      const plain200 = count(withinWindow(p), 200);
      const ratio = plain200 > 0 ? ours200 / plain200 : Number.NaN;
      const failures = o.answers.filter((a) => a.status !== 200);
      const fastFailures = failures.filter((a) => a.ms < c.waitMs * 0.9);
      const states = statesBetween(before, after);
      const outageLines = after.logs.filter((l) => OUTAGE_LINE.test(l));
      const plainFailures = p.answers.filter((a) => a.status !== 200);
      const plainMaxMs = Math.max(...p.answers.map((a) => a.ms));
      const oursMaxMs = Math.max(...o.answers.map((a) => a.ms));
      const load = `${c.clients} clients × ${c.seconds} s, each request holding a connection ${c.holdMs} ms; pool ${c.pool}; ${c.router === "v1" ? "next-connect v1" : c.router === "api" ? "database.api()" : "database.route()"}`;
      const faults = `none: database healthy and busy; wait for a connection bounded at ${c.waitMs} ms (${c.bound})`;
      recordFigures(`9-saturation-${c.driver}`, {
        scenario: "9. Saturation on a healthy database",
        database: target.label,
        load, faults,
        requests: o.answers.length + oursHealth.length,
        statuses: statusCounts(o.answers),
        crashes: ours.crashes(),
        unhandledRejections: after.unhandledRejections,
        maxLatencyMs: oursMaxMs,
        recoveryMs: null,
        leaks: after.stats.pool?.inUse ?? null,
        notes:
          `200s while sending: ours ${ours200}, plain pool ${plain200} (ratio ${ratio.toFixed(2)}); ` +
          `503s: ${failures.length}, all reason ${[...new Set(failures.map((a) => a.reason))].join("/") || "-"}, Retry-After ${[...new Set(failures.map((a) => a.retryAfter))].join("/") || "-"}, ` +
          `fastest ${failures.length ? Math.min(...failures.map((a) => a.ms)) : "-"} ms (bound ${c.waitMs} ms); stats().saturated ${after.stats.saturated}; ` +
          `states sampled during the load: ${JSON.stringify(states)}; outage log lines: ${outageLines.length}; ` +
          `peak server connections ${peak} (pool ${c.pool}${oursAt.monitors ? ` + ${oursAt.monitors} monitor` : ""}); ` +
          `readiness (health()): ${JSON.stringify(statusCounts(oursHealth))}`,
        command: COMMAND,
      });
      recordFigures(`9-saturation-${c.driver}-control`, {
        scenario: "9. Saturation (control: plain pool, hand-written req.db middleware)",
        database: target.label,
        load: `${load.replace(/; next-connect v1|; database\.api\(\)|; database\.route\(\)/, "")}; next-connect v1`,
        faults: c.driver === "mysql2" ? "none; mysql2's queue has no bound" : faults.replace(` (${c.bound})`, c.driver === "mongodb" ? " (waitQueueTimeoutMS)" : ` (${c.bound})`),
        requests: p.answers.length + plainHealth.length,
        statuses: statusCounts(p.answers),
        crashes: plain.crashes(),
        unhandledRejections: plainReport.unhandledRejections,
        maxLatencyMs: plainMaxMs,
        recoveryMs: null,
        leaks: null,
        notes: `readiness (SELECT 1 under a 2 s timeout): ${JSON.stringify(statusCounts(plainHealth))}`,
        command: COMMAND,
      });

      expect(ours.crashes(), ours.stderr()).toBe(0);
      expect(after.unhandledRejections).toBe(0);
      // Keeps pace: a pool's worth of requests is the noise at the window's edges.
      expect(ours200, `ours ${ours200} vs plain ${plain200}`).toBeGreaterThanOrEqual(Math.floor(plain200 * 0.9) - c.pool);
      // The only failure is saturation, answered as such, after the whole wait.
      for (const a of failures) {
        expect(a.status).toBe(503);
        expect(a.reason).toBe("saturated");
        expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(fastFailures.map((a) => a.ms)).toEqual([]);
      expect(after.stats.saturated - before.stats.saturated).toBe(failures.length);
      // A busy database is a connected one, and nobody said otherwise.
      expect(Object.keys(states)).toEqual(["connected"]);
      expect(outageLines).toEqual([]);
      expect(after.stats.failures).toBe(0);
      // The pool never grows past its max; the one more is health() on a full pool asking the
      // server on a connection of its own (closed at once), which tells busy from silent.
      expect(peak).toBeLessThanOrEqual(c.pool + oursAt.monitors + 1);
      // The readiness endpoint keeps the busy instance in service.
      expect(oursHealth.length).toBeGreaterThanOrEqual(2);
      expect(oursHealth.map((h) => h.status)).toEqual(oursHealth.map(() => 200));

      // Controls: the same load on the plain pool. The naive readiness check calls the busy database down.
      expect(plainHealth.filter((h) => h.status === 503).length, JSON.stringify(statusCounts(plainHealth))).toBeGreaterThan(0);
      if (c.driver === "mysql2") {
        // No bound at all: every request waits for as long as the queue takes, longer than ours ever waited.
        expect(plainFailures).toEqual([]);
        expect(plainMaxMs).toBeGreaterThan(c.waitMs);
      } else {
        // The wait times out as the app's own 500, with no Retry-After: indistinguishable from a bug.
        expect(plainFailures.length).toBeGreaterThan(0);
        expect(new Set(plainFailures.map((a) => a.status))).toEqual(new Set([500]));
      }
    } finally {
      await Promise.all([ours.stop(), plain.stop()]);
    }
  }, 60_000);
});
