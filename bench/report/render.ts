// The report as markdown, from the results object run.ts writes as JSON, so
// that `tsx bench/report/print.ts` can print it again from a saved file.
import type { ColdStartResult } from "../phases/cold-start.js";
import type { ConnectCost } from "../phases/connect-cost.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { ReevaluationResult } from "../phases/reevaluation.js";
import type { DriverThroughput } from "../phases/throughput.js";
import type { BenchSettings } from "../settings.js";
import { THROUGHPUT_ONLY, type Driver, type StrategyId } from "../strategies.js";
import type { Machine } from "../lib/machine.js";
import { ratiosFor, type DriverRatios } from "./ratios.js";
import { coldStartTable, connectCostTable, driverHeading, hotPathTable, ratiosTable, reevaluationTable, targetsTable, throughputTable } from "./tables.js";
import { checkTargets, type TargetCheck } from "./targets.js";

export interface ColdStartEntry {
  driver: Driver;
  results: ColdStartResult[];
  limit: number;
  openedExact: boolean;
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  wallClockSeconds: number;
  machine: Machine;
  databases: Partial<Record<Driver, { server: string; connectionsOpenedFrom: string; exact: boolean }>>;
  settings: BenchSettings;
  skipped: Array<{ driver: Driver; reason: string }>;
  failures: string[];
  throughput: DriverThroughput[];
  ratios: DriverRatios[];
  coldStart: ColdStartEntry[];
  connectCost: ConnectCost[];
  hotPath: HotPathResult | null;
  reevaluation: ReevaluationResult[];
  targets: TargetCheck[];
}

/** Ratios and target checks, derived from the measurements. */
export function derive(input: Pick<BenchResults, "throughput" | "coldStart" | "hotPath">): Pick<BenchResults, "ratios" | "targets"> {
  const ratios = input.throughput.map(ratiosFor);
  return { ratios, targets: checkTargets({ ratios, cold: input.coldStart, hotPath: input.hotPath }) };
}

export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.platform}, Node ${m.node}; ` +
      `load average ${m.loadAverageAtStart} at start, ${m.loadAverageAtEnd ?? "?"} at end. ` +
      `Command: \`${r.command}\`, ${r.generatedAt}, ${r.wallClockSeconds} s.`,
  );
  for (const t of r.throughput) {
    const server = r.databases[t.driver]?.server ?? t.driver;
    out.push(`\n${driverHeading(t.driver, server)}\n\nThroughput (medians of ${r.settings.rounds} round(s) of ${r.settings.durationSeconds} s, ${r.settings.connections} connections):\n`);
    const ratios = r.ratios.find((x) => x.driver === t.driver)!;
    out.push(throughputTable(t, ratios));
    if (ratios.pairs.length) out.push(`\nRatios (median of the per-round ratios; lowest–highest round):\n\n${ratiosTable(ratios)}`);
    const c = r.coldStart.find((x) => x.driver === t.driver);
    if (c) {
      out.push(`\nCold start (${r.settings.coldRequests} first requests, fresh process) and memory (after ${r.settings.memoryRequests} requests):\n\n${coldStartTable(c.results)}`);
      const notRun = coldSkipped(r.settings, t.strategies.map((s) => s.strategy));
      if (notRun) out.push(`\n${notRun}`);
    }
  }
  if (r.connectCost.length) out.push(`\n### Connection cost outside Next.js (median of ${r.connectCost[0]!.samples})\n\n${connectCostTable(r.connectCost)}`);
  if (r.hotPath) out.push(`\n### Hot path (${r.hotPath.pool})\n\n${hotPathTable(r.hotPath)}`);
  if (r.reevaluation.length) out.push(`\n### Module re-evaluation (MongoDB wire server)\n\n${reevaluationTable(r.reevaluation)}`);
  out.push(`\n### Targets\n\n${targetsTable(r.targets)}`);
  for (const s of r.skipped) out.push(`\nSkipped ${s.driver}: ${s.reason}`);
  for (const f of r.failures) out.push(`\nFAILED ${f}`);
  return out.join("\n");
}

/** The sentence saying which strategies had no cold start and why, or "" when all had one. */
export function coldSkipped(settings: BenchSettings, measured: readonly StrategyId[]): string {
  const skipped = measured.filter((id) => !settings.coldStrategies.includes(id));
  if (skipped.length === 0) return "";
  const references = skipped.filter((id) => THROUGHPUT_ONLY.includes(id));
  const others = skipped.filter((id) => !THROUGHPUT_ONLY.includes(id));
  const parts: string[] = [];
  if (references.length) parts.push(`${references.join(", ")}: throughput references only, their connection handling at a cold start is c's and d's`);
  if (others.length) parts.push(`${others.join(", ")}: not in this ${settings.mode} run's cold-start set`);
  return `No cold start for ${parts.join("; ")}.`;
}
