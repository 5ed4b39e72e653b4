// The targets, each with its measured value and pass or miss.
import type { ColdStartResult } from "../phases/cold-start.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { Driver } from "../strategies.js";
import type { DriverRatios } from "./ratios.js";

export interface TargetCheck {
  target: string;
  driver?: Driver;
  measured: string;
  pass: boolean;
  /** A hard check fails the run (exit code 1) even in --smoke: it is not a matter of speed. */
  hard: boolean;
}

export function checkTargets(input: {
  ratios: DriverRatios[];
  cold: Array<{ driver: Driver; results: ColdStartResult[]; limit: number; openedExact: boolean }>;
  hotPath: HotPathResult | null;
}): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of input.ratios) {
    checks.push({ target: "d ≥ 0.98× c (throughput)", driver: r.driver, measured: `${r.againstC.d}×`, pass: r.againstC.d >= 0.98, hard: false });
    checks.push({ target: "e ≥ 0.98× c-app (throughput, both App Router)", driver: r.driver, measured: `${r.eAgainstCApp}×`, pass: r.eAgainstCApp >= 0.98, hard: false });
    checks.push({ target: "e ≥ 0.98× c (throughput, App vs Pages Router)", driver: r.driver, measured: `${r.againstC.e}×`, pass: r.againstC.e >= 0.98, hard: false });
    checks.push({ target: "d ≥ 20× a (throughput)", driver: r.driver, measured: `${r.dAgainstA}×`, pass: r.dAgainstA >= 20, hard: false });
    checks.push({ target: "e ≥ 20× a (throughput)", driver: r.driver, measured: `${r.eAgainstA}×`, pass: r.eAgainstA >= 20, hard: false });
  }
  const middleware = input.hotPath?.cases.find((c) => c.name.startsWith("middleware"));
  if (middleware) {
    checks.push({
      target: "middleware overhead ≤ 1 µs per request (median)",
      measured: `${middleware.overheadNs} ns`,
      pass: middleware.overheadNs <= 1000,
      hard: false,
    });
  }
  for (const { driver, results, limit, openedExact } of input.cold) {
    for (const id of ["d", "e"] as const) {
      const r = results.find((x) => x.strategy === id);
      if (!r) continue;
      // A server-wide "opened" counter also holds other clients' connects: then
      // the strategy's own open connections (its user or appName) decide.
      const server = openedExact ? r.serverOpened : r.serverPeak;
      checks.push({
        target: `cold start ${id}: exactly 1 connect, ≤ ${limit} server connections, all answered`,
        driver,
        measured: openedExact
          ? `${r.driverConnects} connect(s), ${r.serverOpened} opened (peak ${r.serverPeak}), ${r.ok}/${r.requests} ok`
          : `${r.driverConnects} connect(s), peak ${r.serverPeak} open (server-wide opened ${r.serverOpened}), ${r.ok}/${r.requests} ok`,
        pass: r.driverConnects === 1 && server <= limit && r.ok === r.requests,
        hard: true,
      });
    }
    const a = results.find((x) => x.strategy === "a");
    if (a) {
      // The control must show the failure mode the package prevents; if it does not, the test proves nothing.
      checks.push({
        target: "control a opens one connection per request in the cold start",
        driver,
        measured: `${a.driverConnects} connects, ${a.serverOpened} opened for ${a.requests} requests`,
        pass: a.driverConnects >= a.ok && a.serverOpened >= a.ok,
        hard: true,
      });
    }
  }
  return checks;
}
