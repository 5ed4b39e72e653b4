// Ratios between strategies, as medians of per-round ratios: each round ran
// every strategy back to back, so a round's ratio cancels the drift between rounds.
import type { DriverThroughput } from "../phases/throughput.js";
import type { StrategyId } from "../strategies.js";
import { median, round } from "../lib/stats.js";

function perRound(result: DriverThroughput, strategy: StrategyId, against: StrategyId): number[] {
  const of = (id: StrategyId) => result.strategies.find((s) => s.strategy === id)!.rounds;
  const a = of(strategy);
  const b = of(against);
  return a.map((r, i) => r.requestsPerSecond / (b[i]?.requestsPerSecond ?? Number.NaN)).filter(Number.isFinite);
}

export function roundRatio(result: DriverThroughput, strategy: StrategyId, against: StrategyId): number {
  return round(median(perRound(result, strategy, against)), 3);
}

/** Lowest and highest per-round ratio: how much of a difference the machine's noise alone makes. */
function roundRange(result: DriverThroughput, strategy: StrategyId, against: StrategyId): [number, number] {
  const ratios = perRound(result, strategy, against);
  return [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)];
}

export interface DriverRatios {
  driver: DriverThroughput["driver"];
  /** Every strategy against c (Pages Router singleton). */
  againstC: Record<StrategyId, number>;
  /** Lowest and highest per-round ratio against c. */
  againstCRange: Record<StrategyId, [number, number]>;
  /** e against c-app: both App Router, so only the connection handling differs. */
  eAgainstCApp: number;
  dAgainstA: number;
  eAgainstA: number;
}

export function ratiosFor(result: DriverThroughput): DriverRatios {
  const ids: StrategyId[] = ["a", "b", "c", "c-app", "d", "e"];
  return {
    driver: result.driver,
    againstC: Object.fromEntries(ids.map((id) => [id, roundRatio(result, id, "c")])) as Record<StrategyId, number>,
    againstCRange: Object.fromEntries(ids.map((id) => [id, roundRange(result, id, "c")])) as Record<StrategyId, [number, number]>,
    eAgainstCApp: roundRatio(result, "e", "c-app"),
    dAgainstA: roundRatio(result, "d", "a"),
    eAgainstA: roundRatio(result, "e", "a"),
  };
}
