// How long and how hard each phase runs. `--smoke` is the short run CI calls
// (a few seconds per strategy); the full run is what BENCHMARKS.md reports.
import type { StrategyId } from "./strategies.js";

export interface BenchSettings {
  mode: "full" | "smoke";
  /** autocannon connections (requests in flight) in the throughput rounds. */
  connections: number;
  /** Seconds of load per strategy per round. */
  durationSeconds: number;
  /** Rounds of every strategy in turn, forwards then backwards (STRATEGIES order), so machine drift hits every strategy alike. */
  rounds: number;
  /** Seconds of discarded load per strategy before the first round (route compile, JIT, pools). */
  warmupSeconds: number;
  /** The same pool max for b, c, c-app, d and e. */
  poolMax: number;
  /**
   * Strategies given a fresh process for the cold-start and memory phases
   * (each costs a `next start`): the smoke run keeps the control and ours.
   * c-nc and d-noguard are throughput references only: their connection
   * handling at a cold start is c's and d's.
   */
  coldStrategies: StrategyId[];
  /** Concurrent first requests against a fresh process. */
  coldRequests: number;
  /**
   * Strategy a opens one connection per request. Against the shared
   * PostgreSQL/MariaDB servers (max_connections 100/151, used by others at the
   * same time) its cold burst keeps at most this many requests in flight.
   */
  coldInFlightShared: number;
  /** Requests before reading a fresh process's RSS. */
  memoryRequests: number;
  /** Module re-evaluations in the heap-growth test. */
  reevaluations: number;
  /** mitata time budget per micro-benchmark, in ms. */
  microBudgetMs: number;
}

export function settingsFor(argv: string[]): BenchSettings {
  const smoke = argv.includes("--smoke");
  return smoke
    ? {
        mode: "smoke",
        connections: 16,
        durationSeconds: 2,
        rounds: 1,
        warmupSeconds: 1,
        poolMax: 8,
        coldStrategies: ["a", "d", "e"],
        coldRequests: 200,
        coldInFlightShared: 40,
        memoryRequests: 500,
        reevaluations: 50,
        microBudgetMs: 300,
      }
    : {
        mode: "full",
        connections: 16,
        // Since c-nc and d-noguard joined (8 strategies), 6 rounds of 3 s
        // after a 1 s warm-up (were 5 of 4 s after 2 s): an even number of
        // rounds for the forward/backward order, the full run under ~16 min.
        durationSeconds: 3,
        rounds: 6,
        warmupSeconds: 1,
        poolMax: 8,
        coldStrategies: ["a", "b", "c", "c-app", "d", "e"],
        coldRequests: 200,
        coldInFlightShared: 40,
        memoryRequests: 10_000,
        reevaluations: 50,
        microBudgetMs: 2000,
      };
}
