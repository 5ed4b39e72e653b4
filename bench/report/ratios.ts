// Ratios between strategies, as medians of per-round ratios: each round ran
// every strategy back to back, so a round's ratio cancels the drift between rounds.
import type { DriverThroughput } from "../phases/throughput.js";
import type { StrategyId } from "../strategies.js";
import { median, round } from "../lib/stats.js";

/** One strategy's throughput over another's. */
export interface PairRatio {
  strategy: StrategyId;
  against: StrategyId;
  /** Median of the per-round ratios. */
  median: number;
  /** Lowest and highest per-round ratio: how much of a difference the machine's noise alone makes. */
  range: [number, number];
}

/** The comparisons the report prints besides "× c", and what each one isolates. */
export const COMPARISONS: ReadonlyArray<{ strategy: StrategyId; against: StrategyId; isolates: string }> = [
  { strategy: "d", against: "c", isolates: "the issue's target: the package and next-connect, against a plain handler" },
  { strategy: "d", against: "c-nc", isolates: "like for like: the package alone (next-connect on both sides)" },
  { strategy: "e", against: "c-app", isolates: "like for like: the package alone (App Router on both sides)" },
  { strategy: "d-noguard", against: "d", isolates: "diagnostic: the leak guard's per-request scope, end to end (MongoDB has no guard: A/A there)" },
  { strategy: "c-nc", against: "c", isolates: "next-connect and a hand-written req.db middleware, without the package" },
  { strategy: "b", against: "c", isolates: "A/A: the same per-request code, i.e. the machine's noise" },
];

function perRound(result: DriverThroughput, strategy: StrategyId, against: StrategyId): number[] | undefined {
  const of = (id: StrategyId) => result.strategies.find((s) => s.strategy === id)?.rounds;
  const a = of(strategy);
  const b = of(against);
  // A results file from before a strategy existed: no ratio rather than NaN.
  if (!a || !b) return undefined;
  return a.map((r, i) => r.requestsPerSecond / (b[i]?.requestsPerSecond ?? Number.NaN)).filter(Number.isFinite);
}

export function pairRatio(result: DriverThroughput, strategy: StrategyId, against: StrategyId): PairRatio | undefined {
  const ratios = perRound(result, strategy, against);
  if (!ratios || ratios.length === 0) return undefined;
  return {
    strategy,
    against,
    median: round(median(ratios), 3),
    range: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
  };
}

export interface DriverRatios {
  driver: DriverThroughput["driver"];
  network?: DriverThroughput["network"];
  /** Every strategy measured against c (Pages Router singleton), with its per-round range. */
  againstC: Partial<Record<StrategyId, PairRatio>>;
  /** Every strategy measured against a, a connection per request (absent in older results). */
  againstA?: Partial<Record<StrategyId, PairRatio>>;
  /** COMPARISONS, for the strategies this run measured. */
  pairs: PairRatio[];
  dAgainstA?: PairRatio;
  eAgainstA?: PairRatio;
}

export function ratiosFor(result: DriverThroughput): DriverRatios {
  const againstC: DriverRatios["againstC"] = {};
  const againstA: NonNullable<DriverRatios["againstA"]> = {};
  for (const { strategy } of result.strategies) {
    const r = pairRatio(result, strategy, "c");
    if (r) againstC[strategy] = r;
    const a = pairRatio(result, strategy, "a");
    if (a) againstA[strategy] = a;
  }
  return {
    driver: result.driver,
    network: result.network,
    againstA,
    againstC,
    pairs: COMPARISONS.map((c) => pairRatio(result, c.strategy, c.against)).filter((r): r is PairRatio => r !== undefined),
    dAgainstA: pairRatio(result, "d", "a"),
    eAgainstA: pairRatio(result, "e", "a"),
  };
}

/** A comparison of this run, if both strategies were measured. */
export function findPair(ratios: DriverRatios, strategy: StrategyId, against: StrategyId): PairRatio | undefined {
  return ratios.pairs.find((p) => p.strategy === strategy && p.against === against) ?? (against === "c" ? ratios.againstC[strategy] : undefined);
}
