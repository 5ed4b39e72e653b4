// How long and how hard each phase runs. `--smoke` is the short run CI calls
// (a few seconds per strategy); the full run is what BENCHMARKS.md reports.
import type { Network, StrategyId } from "./strategies.js";

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
  /**
   * Networks whose targets get the cold-start phase (a fresh `next start` per
   * strategy, the longest phase): the smoke run checks the production-like
   * targets' throughput and connection cost only.
   */
  coldNetworks: Network[];
  /** Concurrent first requests against a fresh process. */
  coldRequests: number;
  /**
   * Fresh processes per strategy in the cold-start phase, run in alternating
   * order (forwards, then backwards), each strategy's time the median of them:
   * one process per strategy is noise (1.07× in one run, 1.22× in another).
   */
  coldProcesses: number;
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
  /** Keeps-pace phase: concurrent clients, seconds per window, ABBA rounds (each side gets rounds × seconds per route). */
  paceConnections: number;
  paceSeconds: number;
  paceRounds: number;
}

/**
 * `--smoke` or the full run; `--cold-processes=N`,
 * `--cold-strategies=c,c-app,d,e` and `--memory-requests=N` change the
 * cold-start phase alone (for running it in a targeted way: `--phases=cold`).
 */
export function settingsFor(argv: string[]): BenchSettings {
  const settings = baseSettings(argv.includes("--smoke"));
  const processes = Number(argv.find((a) => a.startsWith("--cold-processes="))?.slice("--cold-processes=".length));
  if (Number.isInteger(processes) && processes > 0) settings.coldProcesses = processes;
  const strategies = argv.find((a) => a.startsWith("--cold-strategies="))?.slice("--cold-strategies=".length).split(",");
  if (strategies?.length) settings.coldStrategies = strategies as StrategyId[];
  const memory = Number(argv.find((a) => a.startsWith("--memory-requests="))?.slice("--memory-requests=".length));
  if (Number.isInteger(memory) && memory >= 0) settings.memoryRequests = memory;
  return settings;
}

function baseSettings(smoke: boolean): BenchSettings {
  return smoke
    ? {
        mode: "smoke",
        connections: 16,
        durationSeconds: 2,
        rounds: 1,
        warmupSeconds: 1,
        poolMax: 8,
        coldStrategies: ["a", "d", "e"],
        coldNetworks: ["local"],
        coldRequests: 200,
        coldProcesses: 1,
        coldInFlightShared: 40,
        memoryRequests: 500,
        reevaluations: 50,
        microBudgetMs: 300,
        paceConnections: 50,
        paceSeconds: 2,
        paceRounds: 1,
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
        coldNetworks: ["local", "production"],
        coldRequests: 200,
        coldProcesses: 5,
        coldInFlightShared: 40,
        memoryRequests: 10_000,
        reevaluations: 50,
        microBudgetMs: 2000,
        // 50 clients, 10 s per side and route, in two windows of 5 s (ABBA).
        paceConnections: 50,
        paceSeconds: 5,
        paceRounds: 2,
      };
}
