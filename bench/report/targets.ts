// The issue's targets, each with its measured value and pass or miss.
import { COLD_PAIRS, coldRatio, type ColdStartResult } from "../phases/cold-start.js";
import type { HotPathResult } from "../phases/hot-path.js";
import type { DriverPace } from "../phases/pace.js";
import type { Driver, Network } from "../strategies.js";
import { findPair, type DriverRatios, type PairRatio } from "./ratios.js";

export interface TargetCheck {
  target: string;
  driver?: Driver;
  network?: Network;
  measured: string;
  pass: boolean;
  /** A hard check fails the run (exit code 1) even in --smoke: it is not a matter of speed. */
  hard: boolean;
}

export function checkTargets(input: {
  ratios: DriverRatios[];
  cold: Array<{ driver: Driver; network?: Network; results: ColdStartResult[]; limit: number; openedExact: boolean }>;
  hotPath: HotPathResult | null;
  pace: DriverPace[];
}): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of input.ratios) {
    const speed = (target: string, ratio: PairRatio | undefined, min: number) => {
      if (!ratio) return;
      const measured = `${ratio.median}× (rounds ${ratio.range[0]}–${ratio.range[1]})`;
      checks.push({ target, driver: r.driver, network: r.network, measured, pass: ratio.median >= min, hard: false });
    };
    speed("d ≥ 0.98× c (throughput, the issue's target)", findPair(r, "d", "c"), 0.98);
    speed("d ≥ 0.98× c-nc (throughput, like for like: both next-connect)", findPair(r, "d", "c-nc"), 0.98);
    speed("e ≥ 0.98× c-app (throughput, like for like: both App Router)", findPair(r, "e", "c-app"), 0.98);
    speed("e ≥ 0.98× c (throughput, App vs Pages Router)", findPair(r, "e", "c"), 0.98);
    speed("d ≥ 20× a (throughput)", r.dAgainstA, 20);
    speed("e ≥ 20× a (throughput)", r.eAgainstA, 20);
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
  for (const p of input.pace) {
    for (const r of p.routes) {
      checks.push({
        target: `keeps pace: middleware ≥ 0.9× a hand-written req.db pool, ${r.route}`,
        driver: p.driver,
        measured: `${r.ratio}× (rounds ${r.range[0]}–${r.range[1]})`,
        pass: r.ratio >= 0.9,
        hard: false,
      });
    }
    // Not a matter of speed: no error under load, one connect, the pool's max held on the server.
    const errors = p.routes.reduce((n, r) => n + r.oursErrors, 0);
    checks.push({
      target: "keeps pace: no error, 1 connect, ≤ pool max on the server",
      driver: p.driver,
      measured: `${errors} errors, ${p.oursConnects} connect(s), server peak ${p.oursServerPeak} (max ${p.poolMax}${p.extraConnections ? ` + ${p.extraConnections}` : ""})`,
      pass: errors === 0 && p.oursConnects === 1 && p.oursServerPeak <= p.poolMax + p.extraConnections,
      hard: true,
    });
  }
  for (const { driver, network, results, limit, openedExact } of input.cold) {
    for (const id of ["d", "e"] as const) {
      const r = results.find((x) => x.strategy === id);
      if (!r) continue;
      // A server-wide "opened" counter also holds other clients' connects: then
      // the strategy's own open connections (its user or appName) decide.
      const server = openedExact ? r.serverOpened : r.serverPeak;
      checks.push({
        target: `cold start ${id}: exactly 1 connect, ≤ ${limit} server connections, all answered`,
        driver,
        network,
        measured: openedExact
          ? `${r.driverConnects} connect(s), ${r.serverOpened} opened (peak ${r.serverPeak}), ${r.ok}/${r.requests} ok`
          : `${r.driverConnects} connect(s), peak ${r.serverPeak} open (server-wide opened ${r.serverOpened}), ${r.ok}/${r.requests} ok`,
        pass: r.driverConnects === 1 && server <= limit && r.ok === r.requests,
        hard: true,
      });
    }
    for (const [ours, theirs] of COLD_PAIRS) {
      const ratio = coldRatio(results, ours, theirs);
      if (ratio === null) continue;
      const processes = results.find((x) => x.strategy === ours)?.processes ?? 1;
      checks.push({
        target: `cold start ${ours} ≤ 1.05× ${theirs} (all answered, median of ${processes} fresh processes each)`,
        driver,
        network,
        measured: `${ratio}×`,
        pass: ratio <= 1.05,
        hard: false,
      });
    }
    const a = results.find((x) => x.strategy === "a");
    if (a) {
      // The control must show the failure mode the package prevents; if it does not, the test proves nothing.
      checks.push({
        target: "control a opens one connection per request in the cold start",
        driver,
        network,
        measured: `${a.driverConnects} connects, ${a.serverOpened} opened for ${a.requests} requests`,
        pass: a.driverConnects >= a.ok && a.serverOpened >= a.ok,
        hard: true,
      });
    }
  }
  return checks;
}
