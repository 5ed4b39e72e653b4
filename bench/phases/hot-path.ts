// Phase 3: what the package adds to one request once the pool is connected,
// measured without HTTP. The built package (dist/) on a real pg pool, with a
// minimal fake req/res, against the hand-written alternative: awaiting a
// cached promise of the same pool.
import { measure } from "mitata";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../lib/paths.js";
import { median, round } from "../lib/stats.js";
import type { BenchSettings } from "../settings.js";

type PackageIndex = typeof import("../../index.js");
type PgAdapter = typeof import("../../src/adapters/pg.js");

export interface HotPathCase {
  name: string;
  /** Median ns per request, baseline (awaiting a cached promise). */
  baselineNs: number;
  /** Median ns per request through the package. */
  packageNs: number;
  overheadNs: number;
}

export interface HotPathResult {
  pool: string;
  cases: HotPathCase[];
}

/** Medians of several interleaved measurements, so a burst of noise hits both sides. */
async function compare(
  name: string,
  baseline: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  settings: BenchSettings,
): Promise<HotPathCase> {
  const repeats = settings.mode === "smoke" ? 1 : 3;
  const opts = { min_cpu_time: settings.microBudgetMs * 1e6 };
  const b: number[] = [];
  const o: number[] = [];
  for (let i = 0; i < repeats; i++) {
    b.push((await measure(baseline, opts)).p50);
    o.push((await measure(ours, opts)).p50);
  }
  const baselineNs = round(median(b), 1);
  const packageNs = round(median(o), 1);
  return { name, baselineNs, packageNs, overheadNs: round(packageNs - baselineNs, 1) };
}

export async function runHotPath(pgUrl: string, settings: BenchSettings): Promise<HotPathResult> {
  const dist = (file: string) => pathToFileURL(join(REPO_ROOT, "dist", file)).href;
  const { createDatabase } = (await import(dist("index.js"))) as PackageIndex;
  const { pg } = (await import(dist("pg.js"))) as PgAdapter;

  const url = new URL(pgUrl);
  url.searchParams.set("application_name", "ndc_bench_hot_path");
  const database = createDatabase(pg({ connectionString: url.toString(), max: 2 }), { name: "bench-hot-path", logger: false });
  // The same without the leak guard, whose per-request scope (an
  // AsyncLocalStorage.run) is most of the middleware's cost.
  const unguarded = createDatabase(pg({ connectionString: url.toString(), max: 2 }), {
    name: "bench-hot-path-unguarded",
    logger: false,
    leakGuard: false,
  });
  try {
    await unguarded.connect();
    const { client: pool } = await database.connect();
    const cached = Promise.resolve(pool);

    const req: Record<string, unknown> = { method: "GET", url: "/api/hot-path" };
    const res = { headersSent: false, statusCode: 200, setHeader() {}, end() {}, once() { return res; } };
    // next-connect v1 passes an async next.
    const next = async () => {};

    // Pages Router: router.use(database) against `req.db = await cachedPromise`.
    const middleware = await compare(
      "middleware: router.use(database)",
      async () => {
        req.db = await cached;
        return next();
      },
      async () => database(req, res, next),
      settings,
    );

    const middlewareUnguarded = await compare(
      "middleware, leakGuard: false",
      async () => {
        req.db = await cached;
        return next();
      },
      async () => unguarded(req, res, next),
      settings,
    );

    // App Router: database.route(handler) against awaiting the promise in the handler.
    const handler = async (_req: Request, ctx: { db: unknown }) => ctx.db as unknown as Response;
    const wrapped = database.route(handler as never);
    const request = { method: "GET", url: "http://localhost/api/hot-path" } as Request;
    const ctx = { params: Promise.resolve({}) };
    const route = await compare(
      "route: database.route(handler)",
      async () => handler(request, { ...ctx, db: await cached }),
      async () => wrapped(request, ctx),
      settings,
    );
    return { pool: "pg Pool (max 2) connected to the PostgreSQL target", cases: [middleware, middlewareUnguarded, route] };
  } finally {
    await database.close();
    await unguarded.close();
  }
}
