// `npm run bench` (full) and `npm run bench -- --smoke` (CI): builds the bench
// app, runs every phase against the databases that are reachable, prints
// markdown tables and writes the results as JSON.
//
// Options: --smoke, --drivers=pg,mysql2,mongodb (default: all three),
// --network=local,production (default: both; production-like is pg and mysql2
// behind TLS, password hashing and 1 ms each way, see targets/production.ts),
// --phases=throughput,cold,cost,hot,reeval,pace (default: all; for working on one:
// `npm run bench -- --phases=hot` runs the hot path alone, without building the Next app).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runColdStarts } from "./phases/cold-start.js";
import { measureConnectCost, type ConnectCost } from "./phases/connect-cost.js";
import { runHotPath, type HotPathResult } from "./phases/hot-path.js";
import { runPace, type DriverPace } from "./phases/pace.js";
import { runReevaluation, type ReevaluationResult } from "./phases/reevaluation.js";
import { runThroughput, type DriverThroughput } from "./phases/throughput.js";
import { currentLoad, describeMachine } from "./lib/machine.js";
import { buildApp, startNext, type NextServer } from "./lib/next-app.js";
import { RESULTS_DIR } from "./lib/paths.js";
import { killAllGroups } from "./lib/processes.js";
import { coldSkipped, derive, renderReport, type BenchResults, type ColdStartEntry } from "./report/render.js";
import { settingsFor } from "./settings.js";
import { DRIVERS, NETWORKS, STRATEGIES, targetLabel, urlVariable, type Driver, type Network } from "./strategies.js";
import { openTargets, type DriverTarget } from "./targets/index.js";
import { LOCAL_URL } from "./targets/postgres.js";

const argv = process.argv.slice(2);
const settings = settingsFor(argv);
const drivers = (argv.find((a) => a.startsWith("--drivers="))?.slice("--drivers=".length).split(",") ?? [...DRIVERS]).filter(
  (d): d is Driver => (DRIVERS as readonly string[]).includes(d),
);
const networks = (argv.find((a) => a.startsWith("--network="))?.slice("--network=".length).split(",") ?? [...NETWORKS]).filter(
  (n): n is Network => (NETWORKS as readonly string[]).includes(n),
);
const PHASES = ["throughput", "cold", "cost", "hot", "reeval", "pace"] as const;
const phases = new Set(argv.find((a) => a.startsWith("--phases="))?.slice("--phases=".length).split(",") ?? PHASES);
const log = (line: string) => console.log(line);
const startedAt = Date.now();
/** Seconds since the bench started, so a slow phase shows in the log. */
const elapsed = () => `[${Math.round((Date.now() - startedAt) / 1000)} s]`;

// Whatever happens, no `next start`, wire server, database or user is left behind.
const openTargetsList: DriverTarget[] = [];
let nextServer: NextServer | null = null;
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await nextServer?.stop().catch(() => {});
    killAllGroups();
    for (const target of openTargetsList) await target.close().catch(() => {});
  })());
}
process.on("exit", killAllGroups);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
// The production-like targets add a private PostgreSQL and MariaDB and a second `next start`.
const TIME_LIMIT_MS = (settings.mode === "smoke" ? 10 : 50) * 60_000;
setTimeout(() => {
  console.error(`bench: over the ${TIME_LIMIT_MS / 60_000} min limit, stopping`);
  void cleanup().finally(() => process.exit(1));
}, TIME_LIMIT_MS).unref();

async function main(): Promise<number> {
  const started = Date.now();
  const machine = describeMachine();
  const failures: string[] = [];
  log(`bench (${settings.mode}): ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart}`);

  // Only the phases that run `next start` need the bench app built.
  if (phases.has("throughput") || phases.has("cold")) await buildApp(log);
  const { targets, skipped } = await openTargets(drivers, networks, log);
  openTargetsList.push(...targets);
  if (targets.length === 0) {
    console.error("bench: no database reachable, nothing to measure");
    return 1;
  }
  // One network's targets share a `next start`: the app reads one URL per driver and strategy.
  const envOf = (network: Network) => {
    const env: Record<string, string> = { BENCH_POOL_MAX: String(settings.poolMax) };
    for (const t of targets) if (t.network === network) Object.assign(env, t.env);
    return env;
  };
  const label = (t: DriverTarget) => targetLabel(t.driver, t.network);

  log(`\n${elapsed()} 1. Throughput: ${settings.rounds} alternating round(s) × ${settings.durationSeconds} s per strategy, ${settings.connections} connections, pool max ${settings.poolMax}`);
  const throughput: DriverThroughput[] = [];
  for (const network of phases.has("throughput") ? networks : []) {
    const group = targets.filter((t) => t.network === network);
    if (group.length === 0) continue;
    const server = await startNext(envOf(network));
    nextServer = server;
    for (const target of group) {
      try {
        throughput.push(await runThroughput(server, target, settings, log));
      } catch (err) {
        failures.push(`throughput ${label(target)}: ${(err as Error).message}`);
        log(`  ${label(target)}: FAILED ${(err as Error).message}\n${server.output().slice(-2000)}`);
      }
    }
    await server.stop();
    nextServer = null;
  }

  log(`\n${elapsed()} 2. Cold start (${settings.coldRequests} concurrent first requests, fresh process per strategy) and 4a. RSS after ${settings.memoryRequests} requests`);
  const cold: ColdStartEntry[] = [];
  if (phases.has("cold")) {
    const notRun = coldSkipped(settings, STRATEGIES.map((s) => s.id));
    if (notRun) log(`  ${notRun}`);
  }
  for (const target of phases.has("cold") ? targets.filter((t) => settings.coldNetworks.includes(t.network)) : []) {
    try {
      cold.push({
        driver: target.driver,
        network: target.network,
        results: await runColdStarts(target, envOf(target.network), settings, log),
        limit: settings.poolMax + target.extraConnections,
        openedExact: target.openedExact,
      });
    } catch (err) {
      failures.push(`cold start ${label(target)}: ${(err as Error).message}`);
      log(`  ${label(target)}: FAILED ${(err as Error).message}`);
    }
  }

  log(`\n${elapsed()} 3a. Connection cost outside Next.js (connect + query + close vs query on an open connection)`);
  const connectCost: ConnectCost[] = [];
  for (const target of phases.has("cost") ? targets : []) {
    try {
      const cost = await measureConnectCost(target.driver, target.env[urlVariable(target.driver, "a")]!, settings.mode === "smoke" ? 20 : 100);
      connectCost.push({ ...cost, network: target.network });
      log(`  ${label(target)}: ${cost.connectQueryCloseMs} ms vs ${cost.queryOnOpenMs} ms`);
    } catch (err) {
      failures.push(`connection cost ${label(target)}: ${(err as Error).message}`);
    }
  }

  log(`\n${elapsed()} 3b. Hot path (mitata, dist/, pg pool)`);
  let hotPath: HotPathResult | null = null;
  if (!phases.has("hot")) log("  not selected");
  else if (targets.some((t) => t.driver === "pg" && t.network === "local")) {
    try {
      hotPath = await runHotPath(process.env.DATABASE_URL ?? LOCAL_URL, settings);
    } catch (err) {
      failures.push(`hot path: ${(err as Error).message}`);
    }
  } else log("  skipped: needs PostgreSQL");

  log(`\n${elapsed()} 4b. Heap growth across ${settings.reevaluations} module re-evaluations (wire server)`);
  const reevaluation: ReevaluationResult[] = [];
  for (const kind of phases.has("reeval") ? (["bare-module", "package-database", "module-pool"] as const) : []) {
    try {
      reevaluation.push(await runReevaluation(kind, settings.reevaluations));
    } catch (err) {
      failures.push(`re-evaluation ${kind}: ${(err as Error).message}`);
    }
  }

  log(`\n${elapsed()} 5. Keeps pace: next-db-connect middleware vs a hand-written req.db pool middleware (next-connect v1, no Next.js), ${settings.paceConnections} clients, ${settings.paceRounds} round(s) × ${settings.paceSeconds} s per side`);
  const pace: DriverPace[] = [];
  // Outside Next.js, the package against a hand-written middleware: the local servers are enough.
  for (const target of phases.has("pace") ? targets.filter((t) => t.network === "local") : []) {
    try {
      pace.push(await runPace(target, settings, log));
    } catch (err) {
      failures.push(`keeps pace ${target.driver}: ${(err as Error).message}`);
      log(`  ${target.driver}: FAILED ${(err as Error).message}`);
    }
  }

  machine.loadAverageAtEnd = currentLoad();
  const measured = { throughput, coldStart: cold, hotPath, pace };
  const { ratios, targets: checks } = derive(measured);
  const hardFailures = checks.filter((c) => c.hard && !c.pass).length;
  const poolErrors = throughput.flatMap((t) => t.strategies.filter((s) => s.strategy !== "a" && s.errors > 0).map((s) => `${targetLabel(t.driver, t.network)} ${s.strategy}`));
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench${settings.mode === "smoke" ? " -- --smoke" : ""}`,
    wallClockSeconds: Math.round((Date.now() - started) / 1000),
    machine,
    databases: Object.fromEntries(targets.map((t) => [label(t), { server: t.server, connectionsOpenedFrom: t.openedMethod, exact: t.openedExact }])),
    settings,
    skipped,
    failures,
    throughput,
    ratios,
    coldStart: cold,
    connectCost,
    hotPath,
    reevaluation,
    pace,
    targets: checks,
  };
  log("\n" + renderReport(results));
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A run of some drivers or phases only must not replace the full results the docs quote.
  const partial = argv.some((a) => a.startsWith("--drivers=") || a.startsWith("--phases=") || a.startsWith("--network="));
  const file = join(RESULTS_DIR, partial ? "partial-run.tmp" : settings.mode === "smoke" ? "smoke.json" : "latest.json");
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  log(`\nwrote ${file} (${results.wallClockSeconds} s, load average ${machine.loadAverageAtStart} → ${machine.loadAverageAtEnd})`);
  if (poolErrors.length) log(`errors under load in pooled strategies: ${poolErrors.join(", ")}`);
  return failures.length > 0 || hardFailures > 0 || poolErrors.length > 0 ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    await cleanup();
    process.exit(1);
  });
