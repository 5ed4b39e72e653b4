// Phases 2 and 4a, on one fresh `next start` per strategy: 200 concurrent
// first requests (cold start), then the memory load, then the process's RSS.
import type { BenchSettings } from "../settings.js";
import { STRATEGIES, routePath, type StrategyId } from "../strategies.js";
import type { DriverTarget } from "../targets/index.js";
import { load } from "../lib/load.js";
import { appStats, startNext } from "../lib/next-app.js";
import { round, samplePeak } from "../lib/stats.js";

export interface ColdStartResult {
  strategy: StrategyId;
  requests: number;
  /** Requests in flight at once (capped for strategy a on a shared server). */
  inFlight: number;
  ok: number;
  failed: number;
  /** From the first request sent to the last answer received. */
  allAnsweredMs: number;
  /** Driver-level connects counted in the app process (preload/count-connects.mjs). */
  driverConnects: number;
  /** Connections opened on the server during the burst. */
  serverOpened: number;
  /** Highest number of open server connections seen during the burst. */
  serverPeak: number;
  memory: { requests: number; errors: number; rssMiB: number; heapUsedMiB: number };
}

const MiB = 1024 * 1024;

async function burst(url: string, total: number, inFlight: number): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
        await res.arrayBuffer();
        if (res.ok) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(total, inFlight) }, worker));
  return { ok, failed };
}

export async function runColdStarts(
  target: DriverTarget,
  env: Record<string, string>,
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<ColdStartResult[]> {
  const results: ColdStartResult[] = [];
  for (const { id } of STRATEGIES.filter((s) => settings.coldStrategies.includes(s.id))) {
    const server = await startNext({ ...env, BENCH_POOL_MAX: String(settings.poolMax) });
    try {
      const counter = target.counter(id);
      const url = server.url + routePath(id, target.driver);
      const inFlight = id === "a" && target.shared ? settings.coldInFlightShared : settings.coldRequests;

      const before = await counter.opened();
      const sampler = samplePeak(counter.current, 10);
      const started = performance.now();
      const { ok, failed } = await burst(url, settings.coldRequests, inFlight);
      const allAnsweredMs = performance.now() - started;
      const serverPeak = await sampler.stop();
      await target.settle();
      const serverOpened = (await counter.opened()) - before;
      const driverConnects = (await appStats(server)).connects[target.driver]?.[target.identity(id)] ?? 0;

      const memoryLoad = await load(url, { connections: settings.connections, amount: settings.memoryRequests });
      const after = await appStats(server);
      const result: ColdStartResult = {
        strategy: id,
        requests: settings.coldRequests,
        inFlight,
        ok,
        failed,
        allAnsweredMs: round(allAnsweredMs, 0),
        driverConnects,
        serverOpened,
        serverPeak,
        memory: {
          requests: memoryLoad.requests,
          errors: memoryLoad.errors,
          rssMiB: round(after.rss / MiB, 1),
          heapUsedMiB: round(after.heapUsed / MiB, 1),
        },
      };
      results.push(result);
      log(
        `  ${target.driver} ${id}: cold ${ok}/${settings.coldRequests} ok in ${result.allAnsweredMs} ms, ` +
          `${driverConnects} connects, server opened ${serverOpened} (peak ${serverPeak}); ` +
          `RSS ${result.memory.rssMiB} MiB after ${memoryLoad.requests} requests`,
      );
    } finally {
      await server.stop();
    }
  }
  return results;
}
