// The report as markdown, from the results object run.ts writes as JSON, so
// that `tsx bench/report/print.ts` can print it again from a saved file.
import type { ColdStartResult } from "../phases/cold-start.js";
import type { ConnectCost } from "../phases/connect-cost.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { DriverPace } from "../phases/pace.js";
import type { ReevaluationResult } from "../phases/reevaluation.js";
import type { DriverThroughput } from "../phases/throughput.js";
import type { BenchSettings } from "../settings.js";
import { targetLabel, THROUGHPUT_ONLY, type Driver, type Network, type StrategyId } from "../strategies.js";
import type { Machine } from "../lib/machine.js";
import { ratiosFor, type DriverRatios } from "./ratios.js";
import { coldRatiosLine, coldStartTable, connectCostTable, driverHeading, hotPathTable, paceTable, ratiosTable, reevaluationTable, targetsTable, throughputTable } from "./tables.js";
import { checkTargets, type TargetCheck } from "./targets.js";

export interface ColdStartEntry {
  driver: Driver;
  /** Absent in older results: local. */
  network?: Network;
  results: ColdStartResult[];
  limit: number;
  openedExact: boolean;
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  wallClockSeconds: number;
  machine: Machine;
  /** By target: "pg", "pg (production-like)". */
  databases: Partial<Record<string, { server: string; connectionsOpenedFrom: string; exact: boolean }>>;
  settings: BenchSettings;
  skipped: Array<{ driver: Driver; network?: Network; reason: string }>;
  failures: string[];
  throughput: DriverThroughput[];
  ratios: DriverRatios[];
  coldStart: ColdStartEntry[];
  connectCost: ConnectCost[];
  hotPath: HotPathResult | null;
  reevaluation: ReevaluationResult[];
  /** Absent from results files written before the phase existed. */
  pace?: DriverPace[];
  targets: TargetCheck[];
}

/** Ratios and target checks, derived from the measurements. */
export function derive(input: Pick<BenchResults, "throughput" | "coldStart" | "hotPath" | "pace">): Pick<BenchResults, "ratios" | "targets"> {
  const ratios = input.throughput.map(ratiosFor);
  return { ratios, targets: checkTargets({ ratios, cold: input.coldStart, hotPath: input.hotPath, pace: input.pace ?? [] }) };
}

export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.platform}, Node ${m.node}; ` +
      `load average ${m.loadAverageAtStart} at start, ${m.loadAverageAtEnd ?? "?"} at end. ` +
      `Command: \`${r.command}\`, ${r.generatedAt}, ${r.wallClockSeconds} s.`,
  );
  // A target is a driver on a network; results written before networks existed are all local.
  const same = (x: { driver: Driver; network?: Network }, y: { driver: Driver; network?: Network }) =>
    x.driver === y.driver && (x.network ?? "local") === (y.network ?? "local");
  // A run of the cold-start phase alone (--phases=cold) has no throughput, but its targets still get their section.
  const targets: Array<{ driver: Driver; network?: Network }> = [];
  for (const x of [...r.throughput, ...r.coldStart]) {
    if (!targets.some((y) => same(x, y))) targets.push({ driver: x.driver, ...(x.network ? { network: x.network } : {}) });
  }
  for (const target of targets) {
    const name = targetLabel(target.driver, target.network);
    const server = r.databases[name]?.server ?? name;
    out.push(`\n${driverHeading(name, server)}`);
    const t = r.throughput.find((x) => same(x, target));
    if (t) {
      out.push(`\nThroughput (medians of ${r.settings.rounds} round(s) of ${r.settings.durationSeconds} s, ${r.settings.connections} connections):\n`);
      const ratios = r.ratios.find((x) => same(x, t))!;
      out.push(throughputTable(t, ratios));
      if (ratios.pairs.length) out.push(`\nRatios (median of the per-round ratios; lowest–highest round):\n\n${ratiosTable(ratios)}`);
    }
    const c = r.coldStart.find((x) => same(x, target));
    if (c) {
      out.push(`\nCold start (${r.settings.coldRequests} first requests, fresh process) and memory (after ${r.settings.memoryRequests} requests):\n\n${coldStartTable(c.results)}`);
      const coldRatios = coldRatiosLine(c.results);
      if (coldRatios) out.push(`\n${coldRatios}`);
      const notRun = coldSkipped(r.settings, t ? t.strategies.map((s) => s.strategy) : c.results.map((x) => x.strategy));
      if (notRun) out.push(`\n${notRun}`);
    } else if (r.settings.coldNetworks && !r.settings.coldNetworks.includes(target.network ?? "local")) {
      out.push(`\nNo cold start on this network in a ${r.settings.mode} run: throughput and connection cost only.`);
    }
  }
  if (r.connectCost.length) out.push(`\n### Connection cost outside Next.js (median of ${r.connectCost[0]!.samples})\n\n${connectCostTable(r.connectCost)}`);
  if (r.hotPath) out.push(`\n### Hot path (${r.hotPath.pool})\n\n${hotPathTable(r.hotPath)}`);
  if (r.pace?.length) {
    const p = r.pace[0]!;
    out.push(
      `\n### Keeps pace (next-connect v1, no Next.js: the package's middleware vs a hand-written req.db pool middleware; ` +
        `${p.connections} clients, ${p.rounds} round(s) × ${p.seconds} s per side, pool max ${p.poolMax})\n\n${paceTable(r.pace)}`,
    );
  }
  if (r.reevaluation.length) out.push(`\n### Module re-evaluation (MongoDB wire server)\n\n${reevaluationTable(r.reevaluation)}`);
  out.push(`\n### Targets\n\n${targetsTable(r.targets)}`);
  for (const s of r.skipped) out.push(`\nSkipped ${targetLabel(s.driver, s.network)}: ${s.reason}`);
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
