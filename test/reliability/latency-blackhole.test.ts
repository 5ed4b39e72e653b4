/**
 * Scenario 4, latency and blackhole, through the TCP proxy between the app
 * (a child process) and the database:
 *
 * 1. 150 ms added to every chunk in both directions: requests slow down and
 *    still succeed;
 * 2. a partition (new connections accepted and never answered, open ones
 *    silent): every request ends within the configured timeouts (connect
 *    1 s, query 1.5 s) with a 503, none hangs until the client gives up;
 * 3. healed: the pool is not exhausted by the connections stuck in the
 *    partition; every request succeeds again.
 */
import { afterAll, expect, it } from "vitest";
import { startFaultApp } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { runLoad } from "../support/load.js";
import { builtPackageForFile, describeEachProxiedTarget } from "../support/shared-targets.js";
import { sleep } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/latency-blackhole.test.ts";
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 1500;
/** Client-side timeout: a request still running at this point hangs. */
const CLIENT_TIMEOUT_S = 10;

const pkg = builtPackageForFile();

describeEachProxiedTarget("latency and blackhole", (current) => {
  afterAll(() => {
    const target = current();
    target?.proxy.partition(false);
    target?.proxy.latency(0);
  });

  it("slow: still 200; partitioned: 503 within the timeouts, no hang; healed: the pool serves again", async () => {
    const target = current();
    const app = await startFaultApp({
      build: pkg.build, driver: target.driver, url: target.url, app: target.app, max: 5,
      cooldownMs: 300, maxCooldownMs: 1000, connectTimeoutMs: CONNECT_TIMEOUT_MS, queryTimeoutMs: QUERY_TIMEOUT_MS,
    });
    const { proxy } = target;
    let slow, cut, report;
    const healed: number[] = [];
    let healedAt = 0;
    let firstOkAt = 0;
    try {
      expect((await fetch(`${app.url}/q`)).status).toBe(200);
      proxy.latency(150);
      slow = await runLoad(`${app.url}/q`, { connections: 10, seconds: 3, timeoutS: CLIENT_TIMEOUT_S });
      proxy.latency(0);
      proxy.partition(true);
      // Longer than connect + query timeouts together, so requests are counted when they end.
      cut = await runLoad(`${app.url}/q`, { connections: 10, seconds: 6, timeoutS: CLIENT_TIMEOUT_S });
      proxy.partition(false);
      proxy.cutAll(); // the partition is over: connections stuck in it are gone, as after a real one
      healedAt = Date.now();
      for (let i = 0; i < 60 && healed.filter((s) => s === 200).length < 20; i++) {
        const status = (await fetch(`${app.url}/q`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_S * 1000) })).status;
        if (status === 200 && firstOkAt === 0) firstOkAt = Date.now();
        healed.push(status);
        if (status !== 200) await sleep(100);
      }
      report = await app.report();
    } finally {
      proxy.partition(false);
      proxy.latency(0);
      await app.stop();
    }
    const statuses = countStatuses(healed, slow.statuses, cut.statuses);
    recordFigures(`4-latency-blackhole-${target.driver}`, {
      scenario: "4. Latency and blackhole",
      database: target.label,
      load: "autocannon, 10 connections: 3 s slow, 6 s partitioned; then requests until 20 × 200",
      faults: `+150 ms per chunk each way; then a partition (connect timeout ${CONNECT_TIMEOUT_MS} ms, query timeout ${QUERY_TIMEOUT_MS} ms)`,
      requests: slow.requests + cut.requests + healed.length,
      statuses,
      crashes: app.crashes(),
      unhandledRejections: report.unhandledRejections,
      maxLatencyMs: Math.max(slow.maxLatencyMs, cut.maxLatencyMs),
      recoveryMs: firstOkAt ? firstOkAt - healedAt : null,
      leaks: report.stats.pool?.inUse ?? null,
      notes: `slow phase: ${JSON.stringify(slow.statuses)}, max ${slow.maxLatencyMs} ms; partition: ${JSON.stringify(cut.statuses)}, max ${cut.maxLatencyMs} ms`,
      command: COMMAND,
    });
    expect(app.crashes(), app.stderr()).toBe(0);
    expect(report.unhandledRejections).toBe(0);
    expect(Object.keys(slow.statuses)).toEqual(["200"]);
    // Every request of the partition ended on the server's side, within the timeouts, as a 503.
    expect(Object.keys(cut.statuses)).toEqual(["503"]);
    expect(cut.maxLatencyMs).toBeLessThan(CLIENT_TIMEOUT_S * 1000 * 0.8);
    // Healed: no 500 on the way back, then 20 successes in a row.
    for (const s of healed) expect([200, 503]).toContain(s);
    expect(healed.slice(-20)).toEqual(Array(20).fill(200));
    expect(report.stats.pool?.inUse ?? 0).toBe(0);
  }, 60_000);
});
