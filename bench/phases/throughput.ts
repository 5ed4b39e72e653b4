// Phase 1: every strategy under the same load, in alternating rounds
// (a b c c-nc d d-noguard c-app e, then e c-app d-noguard ... a) so that drift on a shared machine
// hits every strategy alike, all in one `next start` process.
import type { BenchSettings } from "../settings.js";
import { STRATEGIES, routePath, targetLabel, type StrategyId } from "../strategies.js";
import type { DriverTarget } from "../targets/index.js";
import { load, type LoadResult } from "../lib/load.js";
import { appStats, type NextServer } from "../lib/next-app.js";
import { median, round, samplePeak } from "../lib/stats.js";

export interface StrategyThroughput {
  strategy: StrategyId;
  rounds: LoadResult[];
  /** Medians over the rounds. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Connections opened on the server over warm-up and every round. */
  serverOpened: number;
  /** Highest number of open server connections seen during the rounds. */
  serverPeak: number;
  /** Driver-level connects in the app process over the whole phase (preload counter). */
  driverConnects: number;
}

export interface DriverThroughput {
  driver: DriverTarget["driver"];
  /** Absent in results written before the production-like targets: local. */
  network?: DriverTarget["network"];
  strategies: StrategyThroughput[];
}

export async function runThroughput(
  server: NextServer,
  target: DriverTarget,
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<DriverThroughput> {
  const rounds = new Map<StrategyId, LoadResult[]>(STRATEGIES.map((s) => [s.id, []]));
  const opened = new Map<StrategyId, number>(STRATEGIES.map((s) => [s.id, 0]));
  const peaks = new Map<StrategyId, number>(STRATEGIES.map((s) => [s.id, 0]));

  // An exact per-strategy counter is read once around the whole phase; a
  // server-wide one only around this strategy's own windows.
  const startReadings = new Map<StrategyId, number>();
  if (target.openedExact) for (const { id } of STRATEGIES) startReadings.set(id, await target.counter(id).opened());

  const window = async (strategy: StrategyId, seconds: number): Promise<LoadResult> => {
    const counter = target.counter(strategy);
    const before = target.openedExact ? 0 : await counter.opened();
    const sampler = samplePeak(counter.current, 250);
    const result = await load(server.url + routePath(strategy, target.driver), { connections: settings.connections, seconds });
    peaks.set(strategy, Math.max(peaks.get(strategy)!, await sampler.stop()));
    if (!target.openedExact) opened.set(strategy, opened.get(strategy)! + (await counter.opened()) - before);
    return result;
  };

  for (const { id } of STRATEGIES) await window(id, settings.warmupSeconds);
  for (let r = 1; r <= settings.rounds; r++) {
    const line: string[] = [];
    // Every other round runs backwards (ABBA): a strategy that runs right
    // after another one gains or loses a little from that position (measured
    // here: up to 1.1–1.3× for the second of two back-to-back windows of the
    // same route), and reversing the order gives each member of a pair both
    // positions, so the bias cancels out of the per-round ratios' median.
    const order = r % 2 === 1 ? STRATEGIES : [...STRATEGIES].reverse();
    for (const { id } of order) {
      const result = await window(id, settings.durationSeconds);
      rounds.get(id)!.push(result);
      line.push(`${id} ${Math.round(result.requestsPerSecond)}`);
    }
    log(`  ${targetLabel(target.driver, target.network)} round ${r}/${settings.rounds}: ${line.join(", ")} req/s`);
  }
  if (target.openedExact) {
    await target.settle();
    for (const { id } of STRATEGIES) opened.set(id, (await target.counter(id).opened()) - startReadings.get(id)!);
  }

  const connects = (await appStats(server)).connects[target.driver] ?? {};
  return {
    driver: target.driver,
    network: target.network,
    strategies: STRATEGIES.map(({ id }) => {
      const rs = rounds.get(id)!;
      return {
        strategy: id,
        rounds: rs.map((x) => ({ ...x, requestsPerSecond: round(x.requestsPerSecond, 1) })),
        requestsPerSecond: round(median(rs.map((x) => x.requestsPerSecond)), 1),
        p50Ms: median(rs.map((x) => x.p50Ms)),
        p99Ms: median(rs.map((x) => x.p99Ms)),
        errors: rs.reduce((n, x) => n + x.errors, 0),
        serverOpened: opened.get(id)!,
        serverPeak: peaks.get(id)!,
        driverConnects: connects[target.identity(id)] ?? 0,
      };
    }),
  };
}
