/**
 * Scenario 19, `health()` while busy. A readiness endpoint built on
 * `database.health()` (the app's /health: 200 when `ok`, else 503, with the
 * status in the body), asked while both connections of a pool of 2 run long
 * queries; then with the database silent (a network partition at the proxy)
 * while both connections are held by requests, and again; then refusing
 * connections; and with credentials the server rejects.
 *
 * Guarantee: busy is `ok: true, status: "busy"`, answered within the health
 * timeout (a readiness probe keeps the instance); a full pool is busy only if
 * the server answers outside it, so a silent database behind a full pool is
 * `down`, as is a silent or refusing one; rejected credentials are
 * `misconfigured`, not down.
 *
 * Control: the usual readiness check (`SELECT 1`, or a ping, under the same
 * 2 s timeout, on a plain pool of 2) calls the busy, healthy database down.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { once, type Answered } from "../support/closed-loop.js";
import type { Driver } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { startLoadApp, type LoadApp } from "../support/load-app.js";
import { loadTarget, type LoadTarget } from "../support/load-targets.js";
import { MongoWireServer } from "../support/mongo-wire/index.js";
import { uniqueName } from "../support/postgres.js";
import { builtPackageForFile } from "../support/shared-targets.js";
import { proxyInFrontOf, type TcpProxy } from "../support/tcp-proxy.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/health-busy.test.ts";
const HEALTH_TIMEOUT_MS = 2000;
/** health() may take its timeout plus the core's grace for an adapter's own bound; the rest is a loaded machine's margin. */
const ANSWERED_WITHIN_MS = HEALTH_TIMEOUT_MS + 1500;
const HOLD_MS = 5000;
const DRIVERS: Driver[] = ["pg", "mysql2", "mongodb"];

const pkg = builtPackageForFile();

interface Probe extends Answered {
  body: { ok?: boolean; status?: string };
}

async function readiness(app: LoadApp): Promise<Probe> {
  const started = performance.now();
  const res = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(15_000) });
  const body = (await res.json()) as Probe["body"];
  return { status: res.status, ms: Math.round(performance.now() - started), at: Date.now(), retryAfter: null, reason: null, body };
}

function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString();
}

/** The same URL with credentials the server rejects: pg's local server trusts any password, so an unknown role there. */
function rejectedCredentials(driver: Driver, url: string): string {
  const u = new URL(url);
  if (driver === "pg") u.username = "ndc_no_such_role";
  else u.password = "wrong-password";
  return u.toString();
}

describe("health() while busy, silent, refused, rejected", () => {
  const targets = new Map<Driver, LoadTarget>();
  let securedMongo: MongoWireServer;
  const proxies: TcpProxy[] = [];
  beforeAll(async () => {
    for (const driver of DRIVERS) targets.set(driver, await loadTarget(driver));
    securedMongo = new MongoWireServer({ users: [{ user: "ndc", password: "right-password", db: "admin" }], scramIterationCount: 4096 });
    await securedMongo.start();
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.down();
    for (const target of targets.values()) await target.teardown();
    await securedMongo?.stop();
  });

  it.concurrent.for(DRIVERS)("%s: busy is ok (busy), silent and refused are down, rejected credentials misconfigured; the naive check calls busy down", { timeout: 90_000 }, async (driver, { expect }) => {
    const target = targets.get(driver)!;
    const name = uniqueName(`ndc_health_${driver}`);
    const endpoint = await target.endpoint(name);
    const plainAt = await target.endpoint(`${name}_plain`);
    const proxy = await proxyInFrontOf(endpoint.url, 0);
    proxies.push(proxy);
    const dbOptions = { healthTimeoutMs: HEALTH_TIMEOUT_MS, retry: { cooldownMs: 500, maxCooldownMs: 1000 } };
    const ours = await startLoadApp({ build: pkg.build, driver, url: throughProxy(endpoint.url, proxy), app: name, router: "v1", max: 2, dbOptions });
    const plain = await startLoadApp({ build: pkg.build, driver, url: plainAt.url, app: `${name}_plain`, router: "plain", max: 2 });
    const rejectedUrl = driver === "mongodb"
      ? `mongodb://ndc:wrong-password@127.0.0.1:${securedMongo.port}/ndc_load?authSource=admin`
      : rejectedCredentials(driver, endpoint.url);
    const rejected = await startLoadApp({ build: pkg.build, driver, url: rejectedUrl, app: `${name}_rejected`, router: "v1", max: 2, dbOptions });
    try {
      expect((await once(`${ours.url}/q`)).status).toBe(200);
      expect((await once(`${plain.url}/q`)).status).toBe(200);
      const idle = await readiness(ours);

      // Both connections of each pool busy on the server for HOLD_MS.
      const holds = [ours, ours, plain, plain].map((app) => once(`${app.url}/hold?ms=${HOLD_MS}`, HOLD_MS + 10_000));
      await waitFor(() => ours.read(), (r) => r.stats.pool?.inUse === 2, 5000);
      await sleep(300);
      const [busy, naive] = await Promise.all([readiness(ours), readiness(plain)]);
      const held = await Promise.all(holds);

      // Stuck: both connections held by requests when the server goes silent. The pool is as full
      // as when busy, but the database is gone: a readiness probe must not call it busy.
      const stuckHolds = [ours, ours].map((app) => once(`${app.url}/hold?ms=${HOLD_MS}`, HOLD_MS + 20_000));
      await waitFor(() => ours.read(), (r) => r.stats.pool?.inUse === 2, 5000);
      proxy.partition(true);
      const stuck = await readiness(ours);
      // Silent: open connections and new ones get no answer.
      const silent = await readiness(ours);
      // Refusing: the proxy stops listening and resets what was open.
      proxy.partition(false);
      await proxy.down();
      const refused = await readiness(ours);
      await Promise.all(stuckHolds); // cut by the proxy going down
      // The first request finds out (as in an app), so the probe reads what the package learnt,
      // whatever an authentication takes on this machine.
      await once(`${rejected.url}/q`);
      const misconfigured = await readiness(rejected);
      const report = await ours.read();
      const rejectedReport = await rejected.read();

      const show = (p: Probe) => `${p.status} ${p.body.status} in ${p.ms} ms`;
      recordFigures(`19-health-busy-${driver}`, {
        scenario: "19. health() while busy",
        database: target.label,
        load: `pool of 2, both connections held ${HOLD_MS} ms on the server; readiness endpoint on health() (timeout ${HEALTH_TIMEOUT_MS} ms)`,
        faults: "busy; then a partition at the proxy while both connections are held, and again; then the proxy down; and rejected credentials",
        requests: 6,
        statuses: countStatuses([idle, busy, stuck, silent, refused, misconfigured].map((p) => p.status)),
        crashes: ours.crashes() + rejected.crashes(),
        unhandledRejections: report.unhandledRejections + rejectedReport.unhandledRejections,
        maxLatencyMs: Math.max(busy.ms, stuck.ms, silent.ms, refused.ms, misconfigured.ms),
        recoveryMs: null,
        leaks: null,
        notes: `idle: ${show(idle)}; busy: ${show(busy)}; stuck (pool full, server silent): ${show(stuck)}; silent: ${show(silent)}; refused: ${show(refused)}; rejected credentials: ${show(misconfigured)}; the held requests: ${held.map((h) => h.status).join(", ")}`,
        command: COMMAND,
      });
      recordFigures(`19-health-busy-${driver}-control`, {
        scenario: "19. health() while busy (control: a query under a 2 s timeout on a plain pool)",
        database: target.label,
        load: `pool of 2, both connections held ${HOLD_MS} ms on the server`,
        faults: "none: busy",
        requests: 1,
        statuses: countStatuses([naive.status]),
        crashes: plain.crashes(),
        unhandledRejections: 0,
        maxLatencyMs: naive.ms,
        recoveryMs: null,
        leaks: null,
        notes: `busy: ${show(naive)}`,
        command: COMMAND,
      });

      expect(idle.body).toEqual({ ok: true, status: "up" });
      expect(busy.status).toBe(200);
      expect(busy.body).toEqual({ ok: true, status: "busy" });
      expect(busy.ms).toBeLessThan(ANSWERED_WITHIN_MS);
      expect(stuck.status).toBe(503);
      expect(stuck.body).toEqual({ ok: false, status: "down" });
      expect(stuck.ms).toBeLessThan(ANSWERED_WITHIN_MS);
      expect(silent.status).toBe(503);
      expect(silent.body).toEqual({ ok: false, status: "down" });
      expect(silent.ms).toBeLessThan(ANSWERED_WITHIN_MS);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ ok: false, status: "down" });
      expect(refused.ms).toBeLessThan(ANSWERED_WITHIN_MS);
      expect(misconfigured.status).toBe(503);
      expect(misconfigured.body).toEqual({ ok: false, status: "misconfigured" });
      expect(ours.crashes() + rejected.crashes()).toBe(0);
      expect(report.unhandledRejections + rejectedReport.unhandledRejections).toBe(0);
      // Control: the same busy, healthy database, called down.
      expect(naive.status).toBe(503);
      expect(naive.body.status).toBe("down");
    } finally {
      await Promise.all([ours.stop(), plain.stop(), rejected.stop()]);
    }
  });
});
