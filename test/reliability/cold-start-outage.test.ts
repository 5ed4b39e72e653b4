/**
 * Scenario 1, cold-start outage, through a real HTTP server in a child
 * process. The database is unreachable from the very first request (the
 * proxy in front of it refuses connections): every request answers 503 with
 * Retry-After, fast, with no crash and no unhandled rejection. The database
 * comes back, and the first request after the cooldown succeeds.
 *
 * Control: the classic cached promise (`clientPromise ??= connect()`, kept
 * even when it rejects) answers 500 during the outage and stays broken after
 * the database is back, until the process restarts.
 */
import { expect, it } from "vitest";
import { startFaultApp, type FaultApp, type RouterKind } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { runLoad } from "../support/load.js";
import { builtPackageForFile, describeEachProxiedTarget, type ProxiedTarget } from "../support/shared-targets.js";
import { sleep } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/cold-start-outage.test.ts";
const COOLDOWN_MS = 300;
const MAX_COOLDOWN_MS = 1000;

const pkg = builtPackageForFile();

interface Poll {
  at: number;
  status: number;
  retryAfter: string | null;
}

async function get(url: string): Promise<Poll> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return { at: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after") };
}

/** Up to `count` requests, `everyMs` apart, stopping after the first that `until` accepts. */
async function poll(url: string, everyMs: number, count: number, until?: (p: Poll) => boolean): Promise<Poll[]> {
  const polls: Poll[] = [];
  for (let i = 0; i < count; i++) {
    const p = await get(url);
    polls.push(p);
    if (until?.(p)) break;
    await sleep(everyMs);
  }
  return polls;
}

/** Resolves once the app's own report satisfies `ready` (the package's stats: connect attempts so far). */
async function reportSays(app: FaultApp, ready: (r: Awaited<ReturnType<FaultApp["report"]>>) => boolean): Promise<void> {
  while (!ready(await app.report())) await sleep(50);
}

/** Connect attempts the package must have made (and failed) before the outage load ends: several cooldowns' worth. */
const ATTEMPTS_DURING_OUTAGE = 3;
const CONTROL_RESPONSES = 300;

async function coldStart(target: ProxiedTarget, router: RouterKind) {
  await target.proxy.down(); // refused from the first request on
  const app: FaultApp = await startFaultApp({
    build: pkg.build, driver: target.driver, url: target.url, app: target.app, router,
    cooldownMs: COOLDOWN_MS, maxCooldownMs: MAX_COOLDOWN_MS, max: 5, connectTimeoutMs: 1500,
  });
  try {
    // The load ends on events, not after a fixed time: once the package has gone through several
    // cooldowns (the control, which has no package, after a number of answers), so on a loaded
    // machine it still holds answered requests. 30 s is only the upper bound.
    const outage = await runLoad(`${app.url}/q`, {
      connections: 10, seconds: 30, timeoutS: 10,
      ...(router === "cached"
        ? { stopAfterResponses: CONTROL_RESPONSES }
        : { stopWhen: reportSays(app, (r) => (r.stats?.failures ?? 0) >= ATTEMPTS_DURING_OUTAGE) }),
    });
    const first = await get(`${app.url}/q`);
    await target.proxy.up();
    const up = Date.now();
    // Ours: until the first 200, then a few more to show it stays up. The control: a fixed number of requests.
    const after = router === "cached"
      ? await poll(`${app.url}/q`, 100, 15)
      : [...(await poll(`${app.url}/q`, 100, 200, (p) => p.status === 200)), ...(await poll(`${app.url}/q`, 20, 5))];
    const report = await app.report();
    const firstOk = after.find((p) => p.status === 200);
    return { outage, first, after, up, report, crashes: app.crashes(), stderr: app.stderr(), recovery: firstOk ? firstOk.at - up : null };
  } finally {
    await app.stop();
  }
}

describeEachProxiedTarget("cold-start outage", (current) => {

  it("503 with Retry-After while unreachable, no crash; the first request after the cooldown succeeds", async () => {
    const target = current();
    const r = await coldStart(target, "v1");
    const polls = [r.first, ...r.after];
    recordFigures(`1-cold-start-${target.driver}`, {
      scenario: "1. Cold-start outage",
      database: target.label,
      load: `autocannon, 10 connections while down, until ${ATTEMPTS_DURING_OUTAGE} connect attempts had failed (${r.outage.seconds} s); then 1 request / 100 ms`,
      faults: "proxy refuses connections from the first request; back up after the outage load",
      requests: r.outage.requests + polls.length,
      statuses: countStatuses(polls.map((p) => p.status), r.outage.statuses),
      crashes: r.crashes,
      unhandledRejections: r.report.unhandledRejections,
      maxLatencyMs: r.outage.maxLatencyMs,
      recoveryMs: r.recovery,
      leaks: null,
      notes: `cooldown ${COOLDOWN_MS} ms growing to ${MAX_COOLDOWN_MS} ms; ${r.report.stats.failures} connect attempts during the outage`,
      command: COMMAND,
    });
    expect(r.crashes, r.stderr).toBe(0);
    expect(r.report.unhandledRejections).toBe(0);
    expect(Object.keys(r.outage.statuses)).toEqual(["503"]);
    expect(r.outage.requests).toBeGreaterThan(0);
    expect(r.first.status).toBe(503);
    expect(Number(r.first.retryAfter)).toBeGreaterThanOrEqual(1);
    // Fail fast: far fewer connect attempts than requests.
    expect(r.report.stats.failures).toBeLessThan(r.outage.requests / 10);
    // After the database is back: 503s only until the cooldown ends, then the first try succeeds, and it stays up.
    const firstOk = r.after.findIndex((p) => p.status === 200);
    expect(firstOk).toBeGreaterThanOrEqual(0);
    for (const p of r.after.slice(0, firstOk)) expect(p.status).toBe(503);
    for (const p of r.after.slice(firstOk)) expect(p.status).toBe(200);
    // At most the longest cooldown plus one connect attempt (1.5 s), with 5 s for a loaded 2-core machine;
    // a cache that never forgets the failure never gets there (the control).
    expect(r.recovery!).toBeLessThanOrEqual(MAX_COOLDOWN_MS + 1500 + 5000);
  }, 60_000);

  it("control: the cached connect promise answers 500 and stays broken after the database is back", async () => {
    const target = current();
    const r = await coldStart(target, "cached");
    const polls = [r.first, ...r.after];
    recordFigures(`1-cold-start-${target.driver}-control`, {
      scenario: "1. Cold-start outage (control: cached connect promise)",
      database: target.label,
      load: `autocannon, 10 connections while down, until ${CONTROL_RESPONSES} answers (${r.outage.seconds} s); then 15 requests, 100 ms apart`,
      faults: "proxy refuses connections from the first request; back up after the outage load",
      requests: r.outage.requests + polls.length,
      statuses: countStatuses(polls.map((p) => p.status), r.outage.statuses),
      crashes: r.crashes,
      unhandledRejections: r.report.unhandledRejections,
      maxLatencyMs: r.outage.maxLatencyMs,
      recoveryMs: r.recovery,
      leaks: null,
      notes: "never recovers: the rejected promise stays cached until the process restarts",
      command: COMMAND,
    });
    expect(r.crashes, r.stderr).toBe(0);
    expect(Object.keys(r.outage.statuses)).toEqual(["500"]);
    expect(r.after).toHaveLength(15);
    for (const p of r.after) expect(p.status).toBe(500);
  }, 60_000);
});
