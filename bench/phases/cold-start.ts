// Phases 2 and 4a, on fresh `next start` processes: 200 concurrent first
// requests (cold start), several processes per strategy in alternating order;
// on each strategy's first process also the memory load, then its RSS.
import type { BenchSettings } from "../settings.js";
import { STRATEGIES, routePath, type StrategyId } from "../strategies.js";
import type { DriverTarget } from "../targets/index.js";
import { load } from "../lib/load.js";
import { appStats, startNext } from "../lib/next-app.js";
import { median, round, samplePeak } from "../lib/stats.js";

export interface ColdStartResult {
  strategy: StrategyId;
  requests: number;
  /** Requests in flight at once (capped for strategy a on a shared server). */
  inFlight: number;
  /** Fresh processes measured (in alternating order with the other strategies). */
  processes: number;
  /** Answered with 2xx, in the worst process. */
  ok: number;
  /** Failed, in the worst process. */
  failed: number;
  /** From the first request sent to the last answer received: the median over the processes. */
  allAnsweredMs: number;
  /** Each process's time, in the order they ran. */
  allAnsweredSamplesMs: number[];
  /** Driver-level connects counted in the app process (preload/count-connects.mjs), the most of any process. */
  driverConnects: number;
  /** Connections opened on the server during the burst, the most of any process. */
  serverOpened: number;
  /** Highest number of open server connections seen during a burst. */
  serverPeak: number;
  /** Measured on the first process only. */
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

interface OneProcess {
  ok: number;
  failed: number;
  allAnsweredMs: number;
  driverConnects: number;
  serverOpened: number;
  serverPeak: number;
  memory: ColdStartResult["memory"] | null;
}

/**
 * `settings.coldProcesses` fresh processes per strategy, the strategies in
 * alternating order (forwards, then backwards), so machine drift hits each
 * alike; a strategy's time is the median of its processes.
 */
export async function runColdStarts(
  target: DriverTarget,
  env: Record<string, string>,
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<ColdStartResult[]> {
  const ids = STRATEGIES.filter((s) => settings.coldStrategies.includes(s.id)).map((s) => s.id);
  const runs = new Map<StrategyId, OneProcess[]>(ids.map((id) => [id, []]));
  for (let round = 0; round < settings.coldProcesses; round++) {
    for (const id of round % 2 === 0 ? ids : [...ids].reverse()) {
      const one = await coldProcess(target, env, settings, id, round === 0);
      runs.get(id)!.push(one);
      log(
        `  ${target.driver} ${id} #${round + 1}: cold ${one.ok}/${settings.coldRequests} ok in ${one.allAnsweredMs} ms, ` +
          `${one.driverConnects} connects, server opened ${one.serverOpened} (peak ${one.serverPeak})` +
          (one.memory ? `; RSS ${one.memory.rssMiB} MiB after ${one.memory.requests} requests` : ""),
      );
    }
  }
  const results = ids.map((id): ColdStartResult => {
    const all = runs.get(id)!;
    const samples = all.map((r) => r.allAnsweredMs);
    return {
      strategy: id,
      requests: settings.coldRequests,
      inFlight: inFlightFor(id, target, settings),
      processes: all.length,
      ok: Math.min(...all.map((r) => r.ok)),
      failed: Math.max(...all.map((r) => r.failed)),
      allAnsweredMs: round(median(samples), 0),
      allAnsweredSamplesMs: samples,
      driverConnects: Math.max(...all.map((r) => r.driverConnects)),
      serverOpened: Math.max(...all.map((r) => r.serverOpened)),
      serverPeak: Math.max(...all.map((r) => r.serverPeak)),
      memory: all[0]!.memory!,
    };
  });
  for (const [ours, theirs] of COLD_PAIRS) {
    const ratio = coldRatio(results, ours, theirs);
    if (ratio !== null) log(`  ${target.driver} ${ours}/${theirs}: ${ratio}× (medians of ${settings.coldProcesses} fresh processes each)`);
  }
  return results;
}

/** The cold-start comparisons the targets name: ours against the hand-written singleton on the same router. */
export const COLD_PAIRS = [["d", "c"], ["e", "c-app"]] as const;

/** Ratio of the two strategies' median times, or null when one was not run. */
export function coldRatio(results: readonly ColdStartResult[], ours: StrategyId, theirs: StrategyId): number | null {
  const a = results.find((r) => r.strategy === ours);
  const b = results.find((r) => r.strategy === theirs);
  if (!a || !b || !(b.allAnsweredMs > 0)) return null;
  return round(a.allAnsweredMs / b.allAnsweredMs, 2);
}

function inFlightFor(id: StrategyId, target: DriverTarget, settings: BenchSettings): number {
  return id === "a" && target.shared ? settings.coldInFlightShared : settings.coldRequests;
}

async function coldProcess(target: DriverTarget, env: Record<string, string>, settings: BenchSettings, id: StrategyId, withMemory: boolean): Promise<OneProcess> {
  const server = await startNext({ ...env, BENCH_POOL_MAX: String(settings.poolMax) });
  try {
    const counter = target.counter(id);
    const url = server.url + routePath(id, target.driver);
    const before = await counter.opened();
    const sampler = samplePeak(counter.current, 10);
    const started = performance.now();
    const { ok, failed } = await burst(url, settings.coldRequests, inFlightFor(id, target, settings));
    const allAnsweredMs = round(performance.now() - started, 0);
    const serverPeak = await sampler.stop();
    await target.settle();
    const serverOpened = (await counter.opened()) - before;
    const driverConnects = (await appStats(server)).connects[target.driver]?.[target.identity(id)] ?? 0;
    let memory: OneProcess["memory"] = null;
    if (withMemory) {
      const memoryLoad = settings.memoryRequests > 0
        ? await load(url, { connections: settings.connections, amount: settings.memoryRequests })
        : { requests: 0, errors: 0 };
      const after = await appStats(server);
      memory = {
        requests: memoryLoad.requests,
        errors: memoryLoad.errors,
        rssMiB: round(after.rss / MiB, 1),
        heapUsedMiB: round(after.heapUsed / MiB, 1),
      };
    }
    return { ok, failed, allAnsweredMs, driverConnects, serverOpened, serverPeak, memory };
  } finally {
    await server.stop();
  }
}
