// Markdown tables, printed to the terminal and pasted as-is into BENCHMARKS.md.
import type { ColdStartResult } from "../phases/cold-start.js";
import type { ConnectCost } from "../phases/connect-cost.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { ReevaluationResult } from "../phases/reevaluation.js";
import type { DriverThroughput } from "../phases/throughput.js";
import { STRATEGIES, type Driver } from "../strategies.js";
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
    ["strategy", "req/s", "p50 ms", "p99 ms", "errors", "driver connects", "server conns opened", "peak open", "× c", "× c per round"],
    result.strategies.map((s) => {
      const vsC = ratios.againstC[s.strategy];
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
    ["strategy", "ok / sent (in flight)", "all answered ms", "driver connects", "server conns opened", "peak open", "RSS MiB after", "heap MiB"],
    results.map((r) => [
      label(r.strategy),
      `${r.ok}/${r.requests} (${r.inFlight})`,
      r.allAnsweredMs,
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
    results.map((r) => [r.driver, r.connectQueryCloseMs, r.queryOnOpenMs, (r.connectQueryCloseMs / r.queryOnOpenMs).toFixed(1)]),
  );
}

export function hotPathTable(result: HotPathResult): string {
  return table(
    ["case", "cached promise ns", "next-db-connect ns", "overhead ns"],
    result.cases.map((c) => [c.name, c.baselineNs, c.packageNs, c.overheadNs]),
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
    checks.map((c) => [c.target, c.driver ?? "", c.measured, c.pass ? "pass" : "**miss**"]),
  );
}

export function driverHeading(driver: Driver, server: string): string {
  return `### ${driver} — ${server}`;
}
