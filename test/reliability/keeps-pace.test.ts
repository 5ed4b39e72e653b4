/**
 * Scenario 20, keeps pace: what must hold under sustained concurrency, whatever
 * the speed. (The speed itself, against a hand-written `req.db` pool in the
 * same run, is the bench's "keeps pace" phase: `npm run bench -- --phases=pace`;
 * a timed assertion here would only measure the machine.)
 *
 * 50 concurrent clients (autocannon) through next-connect v1 with
 * `router.use(database)`: a trivial query, then a query holding its
 * connection 20 ms, on a pool of 8.
 *
 * Guarantee: no error status; one connect; on the server, never more than the
 * pool's max, and no connection replaced: every server connection id seen
 * during the load (sampled every 100 ms) is one of at most max (plus the
 * MongoDB driver's monitor).
 *
 * Control: a client per request, under far less load (10 clients), shows the
 * churn the sampling catches: new server connections all the time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Driver } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { runLoad } from "../support/load.js";
import { startLoadApp } from "../support/load-app.js";
import { loadTarget, type Endpoint, type LoadTarget } from "../support/load-targets.js";
import { uniqueName } from "../support/postgres.js";
import { builtPackageForFile } from "../support/shared-targets.js";

const COMMAND = "npx vitest run test/reliability/keeps-pace.test.ts";
const CLIENTS = 50;
const SECONDS = 3;
const POOL = 8;
const CONTROL_CLIENTS = 10;
const CONTROL_SECONDS = 1.5;
const DRIVERS: Driver[] = ["pg", "mysql2", "mongodb"];

const pkg = builtPackageForFile();

/** Every server connection id seen while it runs, and the most open at once. */
function watchIds(endpoint: Endpoint): { stop(): Promise<{ distinct: number; peak: number }> } {
  const seen = new Set<string>();
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const ids = await endpoint.serverIds().catch(() => []);
      for (const id of ids) seen.add(id);
      peak = Math.max(peak, ids.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { distinct: seen.size, peak };
    },
  };
}

// One database at a time: the load is CPU-bound, and three at once on two cores would measure the machine.
describe.each(DRIVERS)("keeps pace: correctness under sustained concurrency, %s", (driver) => {
  let target: LoadTarget;
  beforeAll(async () => {
    target = await loadTarget(driver);
  });
  afterAll(async () => {
    await target?.teardown();
  });

  it(`${CLIENTS} clients, no error, one connect, ≤ ${POOL} server connections and none replaced; a client per request churns`, async () => {
    const name = uniqueName(`ndc_pace_${driver}`);
    const controlName = uniqueName(`ndc_pace_churn_${driver}`);
    const [endpoint, controlAt] = await Promise.all([target.endpoint(name), target.endpoint(controlName)]);
    const ours = await startLoadApp({ build: pkg.build, driver, url: endpoint.url, app: name, router: "v1", max: POOL });
    const control = await startLoadApp({ build: pkg.build, driver, url: controlAt.url, app: controlName, router: "per-request", max: POOL });
    try {
      // Connected before the clock starts: the first connect is not what this measures.
      expect((await fetch(`${ours.url}/q`)).status).toBe(200);
      expect((await fetch(`${control.url}/q`)).status).toBe(200);
      const watch = watchIds(endpoint);
      const trivial = await runLoad(`${ours.url}/q`, { connections: CLIENTS, seconds: SECONDS });
      const held = await runLoad(`${ours.url}/hold?ms=20`, { connections: CLIENTS, seconds: SECONDS });
      const server = await watch.stop();
      const report = await ours.read();

      const controlWatch = watchIds(controlAt);
      const churn = await runLoad(`${control.url}/q`, { connections: CONTROL_CLIENTS, seconds: CONTROL_SECONDS });
      const controlServer = await controlWatch.stop();

      const allowed = POOL + endpoint.monitors;
      recordFigures(`20-keeps-pace-${driver}`, {
        scenario: "20. Keeps pace (correctness under sustained concurrency; speed: bench phase 5)",
        database: target.label,
        load: `autocannon, ${CLIENTS} connections: ${SECONDS} s trivial query, then ${SECONDS} s of a query holding its connection 20 ms; pool ${POOL}; next-connect v1`,
        faults: "none",
        requests: trivial.requests + held.requests,
        statuses: countStatuses([], trivial.statuses, held.statuses),
        crashes: ours.crashes(),
        unhandledRejections: report.unhandledRejections,
        maxLatencyMs: Math.max(trivial.maxLatencyMs, held.maxLatencyMs),
        recoveryMs: null,
        leaks: report.stats.pool?.inUse ?? null,
        notes:
          `${Math.round(trivial.requests / trivial.seconds)} and ${Math.round(held.requests / held.seconds)} req/s on this machine (not a benchmark); ` +
          `connects ${report.stats.connects}; server connections: at most ${server.peak} open, ${server.distinct} distinct ids over the load (allowed ${allowed}); ` +
          `control, a client per request (${CONTROL_CLIENTS} clients, ${CONTROL_SECONDS} s): ${churn.requests} requests, ${controlServer.distinct} distinct server connection ids`,
        command: COMMAND,
      });

      expect(ours.crashes()).toBe(0);
      expect(report.unhandledRejections).toBe(0);
      expect(Object.keys(trivial.statuses)).toEqual(["200"]);
      expect(Object.keys(held.statuses)).toEqual(["200"]);
      expect(report.stats.connects).toBe(1);
      expect(report.stats.failures).toBe(0);
      expect(server.peak).toBeLessThanOrEqual(allowed);
      expect(server.distinct).toBeLessThanOrEqual(allowed);
      // Control: the sampling sees churn where there is some.
      expect(Object.keys(churn.statuses)).toEqual(["200"]);
      expect(controlServer.distinct).toBeGreaterThan(allowed);
    } finally {
      await Promise.all([ours.stop(), control.stop()]);
    }
  }, 60_000);
});
