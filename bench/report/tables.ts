// Markdown tables, printed to the terminal and pasted as-is into BENCHMARKS.md.
import { COLD_PAIRS, coldRatio, type ColdStartResult } from "../phases/cold-start.js";
import type { ConnectCost } from "../phases/connect-cost.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { DriverPace } from "../phases/pace.js";
import type { ReevaluationResult } from "../phases/reevaluation.js";
import type { DriverThroughput } from "../phases/throughput.js";
import { STRATEGIES, targetLabel } from "../strategies.js";
import { COMPARISONS, type DriverRatios } from "./ratios.js";
import type { TargetCheck } from "./targets.js";

const label = (id: string) => STRATEGIES.find((s) => s.id === id)?.label ?? id;

/** The first `textColumns` columns are left-aligned, the figures after them right-aligned. */
function table(header: string[], rows: Array<Array<string | number>>, textColumns = 1): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i < textColumns ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export function throughputTable(result: DriverThroughput, ratios: DriverRatios): string {
  return table(
    ["strategy", "req/s", "p50 ms", "p99 ms", "errors", "driver connects", "server conns opened", "peak open", "× c", "× c per round", "× a"],
    result.strategies.map((s) => {
      const vsC = ratios.againstC[s.strategy];
      const vsA = ratios.againstA?.[s.strategy];
      return [
        label(s.strategy),
        s.requestsPerSecond.toFixed(0),
        s.p50Ms,
        s.p99Ms,
        s.errors,
        s.driverConnects,
        s.serverOpened,
        s.serverPeak,
        vsC ? vsC.median.toFixed(3) : "",
        vsC ? `${vsC.range[0]}–${vsC.range[1]}` : "",
        vsA ? vsA.median.toFixed(1) : "",
      ];
    }),
  );
}

/** The named comparisons: median of the per-round ratios, and the lowest and highest round. */
export function ratiosTable(ratios: DriverRatios): string {
  return table(
    ["ratio", "what it isolates", "median", "per round"],
    ratios.pairs.map((p) => [
      `${p.strategy} / ${p.against}`,
      COMPARISONS.find((c) => c.strategy === p.strategy && c.against === p.against)?.isolates ?? "",
      p.median.toFixed(3),
      `${p.range[0]}–${p.range[1]}`,
    ]),
    2,
  );
}

export function coldStartTable(results: ColdStartResult[]): string {
  return table(
    ["strategy", "ok / sent (in flight)", "all answered ms (median)", "each process ms", "driver connects", "server conns opened", "peak open", "RSS MiB after", "heap MiB"],
    results.map((r) => [
      label(r.strategy),
      `${r.ok}/${r.requests} (${r.inFlight})`,
      r.allAnsweredMs,
      // Results saved before several processes per strategy have one figure.
      (r.allAnsweredSamplesMs ?? [r.allAnsweredMs]).join(", "),
      r.driverConnects,
      r.serverOpened,
      r.serverPeak,
      `${r.memory.rssMiB} (${r.memory.requests} req${r.memory.errors ? `, ${r.memory.errors} err` : ""})`,
      r.memory.heapUsedMiB,
    ]),
  );
}

export function connectCostTable(results: ConnectCost[]): string {
  return table(
    ["driver", "connect + query + close ms", "query on an open connection ms", "ratio"],
    results.map((r) => [targetLabel(r.driver, r.network), r.connectQueryCloseMs, r.queryOnOpenMs, (r.connectQueryCloseMs / r.queryOnOpenMs).toFixed(1)]),
  );
}

export function hotPathTable(result: HotPathResult): string {
  return table(
    ["case", "cached promise ns", "next-db-connect ns", "overhead ns"],
    result.cases.map((c) => [c.name, c.baselineNs, c.packageNs, c.overheadNs]),
  );
}

export function paceTable(results: DriverPace[]): string {
  return table(
    ["driver", "route", "next-db-connect req/s", "plain req/s", "ratio (rounds)", "CPU µs/request (ours / plain, ratio)", "errors (ours / plain)", "connects; server peak (ours / plain)"],
    results.flatMap((d) =>
      d.routes.map((r) => [
        d.driver, r.route, r.ours, r.plain, `${r.ratio} (${r.range[0]}–${r.range[1]})`,
        `${r.oursCpuMicros ?? "–"} / ${r.plainCpuMicros ?? "–"} (${r.cpuRatio ?? "–"})`, `${r.oursErrors} / ${r.plainErrors}`,
        `${d.oursConnects}; ${d.oursServerPeak} / ${d.plainServerPeak}`,
      ]),
    ),
  );
}

export function reevaluationTable(results: ReevaluationResult[]): string {
  const names: Record<ReevaluationResult["kind"], string> = {
    "bare-module": "reference: module without a database",
    "package-database": "createDatabase(mongodb(...)) (next-db-connect)",
    "module-pool": "control: module-scope new MongoClient()",
  };
  return table(
    ["module re-evaluated", "evaluations", "heap growth KiB", "server sockets open at end", "server sockets opened"],
    results.map((r) => [names[r.kind], r.evaluations, r.heapGrowthKiB, r.serverConnectionsOpen, r.serverConnectionsOpened]),
  );
}

export function targetsTable(checks: TargetCheck[]): string {
  return table(
    ["target", "driver", "measured", "result"],
    checks.map((c) => [c.target, c.driver ? targetLabel(c.driver, c.network) : "", c.measured, c.pass ? "pass" : "**miss**"]),
  );
}

export function driverHeading(target: string, server: string): string {
  return `### ${target} — ${server}`;
}

/** Cold-start ratios of ours against the hand-written singleton on the same router, from the medians. */
export function coldRatiosLine(results: ColdStartResult[]): string {
  const parts = COLD_PAIRS.flatMap(([ours, theirs]) => {
    const ratio = coldRatio(results, ours, theirs);
    return ratio === null ? [] : [`${ours}/${theirs} ${ratio}×`];
  });
  const processes = results[0]?.processes ?? 1;
  return parts.length ? `Cold-start ratios (medians of ${processes} fresh process${processes === 1 ? "" : "es"} per strategy, alternating): ${parts.join(", ")}.` : "";
}
