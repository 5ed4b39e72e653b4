// Phase 5: keeps pace under sustained concurrency. The package's middleware
// (`router.use(database)`, next-connect v1) against a plain hand-written
// `req.db = pool` middleware on the same router, outside Next.js, one child
// process each (test/fixtures/load-app.mjs, on dist/), the same pool max, 50
// concurrent clients. Two routes: a trivial query (the package's own cost
// weighs most) and a query that holds its connection 20 ms (the pool is the
// bottleneck, as in most apps). The two sides alternate, ABBA, per round; the
// ratio is the median of the per-round ratios. Each window also reads the app
// process's own CPU time: CPU per request is the figure that a loaded machine
// disturbs least.
import autocannon from "autocannon";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { median, round, samplePeak } from "../lib/stats.js";
import { REPO_ROOT } from "../lib/paths.js";
import { spawnGroup, stopGroup } from "../lib/processes.js";
import type { BenchSettings } from "../settings.js";
import { urlVariable, type Driver } from "../strategies.js";
import type { DriverTarget } from "../targets/index.js";

type Side = "ours" | "plain";

export interface PaceRoute {
  route: string;
  /** Median requests/s over the rounds. */
  ours: number;
  plain: number;
  /** Median of the per-round ratios ours ÷ plain, and the lowest and highest round. */
  ratio: number;
  range: [number, number];
  /** Non-2xx answers, timeouts and socket errors over every round. */
  oursErrors: number;
  plainErrors: number;
  /**
   * CPU time of the app process per request (user + system, median µs), and
   * the median per-round ratio ours ÷ plain: less sensitive than requests/s
   * to what else the machine runs, since a process is charged for its own work.
   */
  oursCpuMicros: number;
  plainCpuMicros: number;
  cpuRatio: number;
}

export interface DriverPace {
  driver: Driver;
  connections: number;
  seconds: number;
  rounds: number;
  poolMax: number;
  /** Connections a client keeps besides its pool (MongoDB's monitor), allowed on top of poolMax. */
  extraConnections: number;
  routes: PaceRoute[];
  /** What the package's side did over the whole phase, counted on the server and by stats(). */
  oursConnects: number;
  oursServerPeak: number;
  plainServerPeak: number;
}

const ROUTES = [
  { route: "trivial query", path: "/q" },
  { route: "query holding its connection 20 ms", path: "/hold?ms=20" },
];

interface App {
  url: string;
  /** CPU time the app process used so far, in µs. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

interface Window {
  rps: number;
  errors: number;
  cpuPerRequest: number;
}

/** The load scenarios' app in its own process group, on the built package. */
async function startApp(driver: Driver, side: Side, url: string, poolMax: number): Promise<App> {
  const dist = (file: string) => pathToFileURL(join(REPO_ROOT, "dist", file)).href;
  const child = spawnGroup(process.execPath, [join(REPO_ROOT, "test", "fixtures", "load-app.mjs")], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      NDC_INDEX: dist("index.js"),
      NDC_ADAPTER: dist(`${driver}.js`),
      NDC_DRIVER: driver,
      NDC_URL: url,
      NDC_APP: `ndc_bench_pace_${side}`,
      NDC_ROUTER: side === "ours" ? "v1" : "plain",
      NDC_MAX: String(poolMax),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (c) => (output = (output + c).slice(-4000)));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pace app (${driver}, ${side}) did not start: ${output}`)), 30_000);
    child.once("exit", () => reject(new Error(`pace app (${driver}, ${side}) exited: ${output}`)));
    child.stdout!.on("data", (c) => {
      const found = /READY (\d+)/.exec(String(c))?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    cpu: async () => ((await (await fetch(`${base}/__report`)).json()) as { cpuMicros: number }).cpuMicros,
    stop: () => stopGroup(child),
  };
}

async function window(app: App, path: string, connections: number, seconds: number): Promise<Window> {
  const before = await app.cpu();
  const result = await autocannon({ url: app.url + path, connections, duration: seconds, timeout: 30 });
  const used = (await app.cpu()) - before;
  return {
    rps: result.duration > 0 ? result.requests.total / result.duration : 0,
    errors: result.errors + result.non2xx,
    cpuPerRequest: result.requests.total > 0 ? used / result.requests.total : Number.NaN,
  };
}

export async function runPace(target: DriverTarget, settings: BenchSettings, log: (line: string) => void): Promise<DriverPace> {
  const { driver } = target;
  const { paceConnections: connections, paceSeconds: seconds, paceRounds: rounds, poolMax } = settings;
  // The strategies' own identities: d is the package with next-connect, c-nc the hand-written req.db middleware.
  const urls: Record<Side, string> = { ours: target.env[urlVariable(driver, "d")]!, plain: target.env[urlVariable(driver, "c-nc")]! };
  const counters: Record<Side, ReturnType<DriverTarget["counter"]>> = {
    ours: target.counter("d"),
    plain: target.counter("c-nc"),
  };
  const apps: Record<Side, App> = {
    ours: await startApp(driver, "ours", urls.ours, poolMax),
    plain: await startApp(driver, "plain", urls.plain, poolMax),
  };
  try {
    const peaks = { ours: samplePeak(counters.ours.current, 250), plain: samplePeak(counters.plain.current, 250) };
    const routes: PaceRoute[] = [];
    for (const { route, path } of ROUTES) {
      // Warm-up, discarded: connects, JIT, the pools filled.
      for (const side of ["ours", "plain"] as const) await window(apps[side], path, connections, 1);
      const measured: Record<Side, Window[]> = { ours: [], plain: [] };
      for (let r = 0; r < rounds; r++) {
        const order: Side[] = r % 2 === 0 ? ["ours", "plain"] : ["plain", "ours"];
        for (const side of order) measured[side].push(await window(apps[side], path, connections, seconds));
      }
      const ratios = measured.ours.map((o, i) => o.rps / measured.plain[i]!.rps);
      const cpuRatios = measured.ours.map((o, i) => o.cpuPerRequest / measured.plain[i]!.cpuPerRequest);
      const entry: PaceRoute = {
        route,
        ours: round(median(measured.ours.map((x) => x.rps)), 1),
        plain: round(median(measured.plain.map((x) => x.rps)), 1),
        ratio: round(median(ratios), 3),
        range: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
        oursErrors: measured.ours.reduce((n, x) => n + x.errors, 0),
        plainErrors: measured.plain.reduce((n, x) => n + x.errors, 0),
        oursCpuMicros: round(median(measured.ours.map((x) => x.cpuPerRequest)), 0),
        plainCpuMicros: round(median(measured.plain.map((x) => x.cpuPerRequest)), 0),
        cpuRatio: round(median(cpuRatios), 3),
      };
      routes.push(entry);
      log(
        `  ${driver} ${route}: ours ${entry.ours} req/s, plain ${entry.plain} req/s, ratio ${entry.ratio} (rounds ${entry.range.join("–")}); ` +
          `CPU per request ${entry.oursCpuMicros} µs vs ${entry.plainCpuMicros} µs (${entry.cpuRatio}×)`,
      );
    }
    const report = (await (await fetch(`${apps.ours.url}/__report`)).json()) as { stats: { connects: number } };
    return {
      driver, connections, seconds, rounds, poolMax, routes, extraConnections: target.extraConnections,
      oursConnects: report.stats.connects,
      oursServerPeak: await peaks.ours.stop(),
      plainServerPeak: await peaks.plain.stop(),
    };
  } finally {
    await Promise.all([apps.ours.stop(), apps.plain.stop()]);
  }
}
