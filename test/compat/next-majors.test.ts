/**
 * The compatibility run: the versions existing apps run. One small app
 * (test/fixtures/compat-app/) per Next.js major from 12 to 16, each with the
 * React, next-connect and MongoDB driver of its time installed from the npm
 * registry, and this package installed from its packed tarball with npm's
 * own resolver (peer ranges checked). Each is built with `next build` (no
 * database variables) and started with `next start`; real requests; every
 * count on the server (pg_stat_activity by application_name, the wire
 * server's connections by appName).
 *
 * Per major:
 * - `npm install` of the tarball succeeds next to that Next.js, next-connect
 *   and MongoDB driver (control on Next 12: the old peer ranges fail with
 *   ERESOLVE);
 * - one pool for the Pages routes (next-connect v0 and v1), the App Router
 *   route with a dynamic [id] (13.4+) and instrumentation.js (13.2+), however
 *   many requests hold connections at once (control: the NODE_ENV-guarded
 *   singleton opens one pool per bundle);
 * - the major's MongoDB driver through the package: CRUD, one client on the server;
 * - the database down: the API route answers JSON 503; a page whose
 *   getServerSideProps runs `router.run(req, res)` (v0 and v1) gets the error
 *   back and renders its own page, no run left pending (control: a middleware
 *   that answers by itself leaves run() pending and sends JSON).
 *
 * The apps' third-party packages are installed once and cached under
 * test/artifacts/compat-apps/. NDC_COMPAT_MAJORS=12,16 runs
 * only the majors listed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NEXT_MAJORS,
  nextBuild,
  nextStart,
  npmInstallTarball,
  packPackage,
  packWithPeerRanges,
  prepareDependencies,
  writeAppFiles,
  type NextMajor,
  type NextServer,
  type PreparedDeps,
} from "../support/compat-app.js";
import { ensureBuilt } from "../support/dist.js";
import type { MongoWireServer } from "../support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { samplePeak } from "../support/peak.js";
import { closeAdmin, freePort, pgConnectionCount, postgresUrl, uniqueName, withUrl } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";

const POOL_MAX = 2; // lib/database.js
const HOLD_S = 0.3; // each request holds its connection this long

const selected = process.env.NDC_COMPAT_MAJORS?.split(",").map((s) => Number(s.trim()));
const majors = NEXT_MAJORS.filter((m) => !selected || selected.includes(m.major));
if (selected) console.log(`[compat] NDC_COMPAT_MAJORS: running Next.js ${majors.map((m) => m.major).join(", ")} only`);

/** Two builds at a time: next build is mostly one thread, and the second core would otherwise idle. */
const BUILDS_AT_ONCE = 2;

let pack: Awaited<ReturnType<typeof packPackage>>;
let mongo: MongoWireServer;
let mongoUrl: string;
let pgUrl: string;
let downUrl: string;

interface ReadyApp {
  dir: string;
  install: { ok: boolean; output: string };
  build: { code: number | null; output: string; ms: number } | null;
  timings: Record<string, number>;
}
const ready = new Map<number, Promise<ReadyApp>>();

/** Installs the packed package and builds the app of one major (its third-party packages installed or reused first). */
async function readyApp(m: NextMajor, deps: Promise<PreparedDeps>): Promise<ReadyApp> {
  const { dir, installMs } = await deps;
  const timings: Record<string, number> = { dependenciesMs: installMs };
  let started = Date.now();
  const install = await npmInstallTarball(dir, pack.tarball);
  timings.packageInstallMs = Date.now() - started;
  if (!install.ok) return { dir, install, build: null, timings };
  await writeAppFiles(dir, m);
  started = Date.now();
  const build = await nextBuild(dir);
  timings.buildMs = Date.now() - started;
  return { dir, install, build, timings };
}

function limit(concurrency: number) {
  let running = 0;
  const queue: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

beforeAll(async () => {
  ensureBuilt();
  pack = await packPackage();
  ({ server: mongo, uri: mongoUrl } = await wireServerTarget());
  pgUrl = await postgresUrl();
  downUrl = withUrl(pgUrl, { port: await freePort() }); // nothing listens there
  // Registry installs run side by side (network and disk); builds two at a time, in the majors' order.
  const building = limit(BUILDS_AT_ONCE);
  for (const m of majors) {
    const deps = prepareDependencies(m);
    const app = building(() => readyApp(m, deps));
    app.catch(() => {}); // awaited, and reported, by the major's own block
    ready.set(m.major, app);
  }
}, 120_000);

afterAll(async () => {
  await pack?.remove();
  await mongo?.stop();
  await closeAdmin();
});

interface Reply {
  status: number;
  type: string;
  retryAfter: string | null;
  text: string;
}

async function get(url: string): Promise<Reply> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, type: res.headers.get("content-type") ?? "", retryAfter: res.headers.get("retry-after"), text: await res.text() };
}

const installed = (dir: string, pkg: string) => (JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

describe.each(majors)("Next.js $major", (m: NextMajor) => {
  const app = uniqueName(`ndc_compat_${m.major}`);
  let dir: string;
  let install: ReadyApp["install"];
  let build: ReadyApp["build"];
  let server: NextServer | undefined;
  let timings: Record<string, number> = {};

  beforeAll(async () => {
    ({ dir, install, build, timings } = await ready.get(m.major)!);
    if (build?.code !== 0) return;
    const started = Date.now();
    server = await nextStart(dir, { COMPAT_PG_URL: pgUrl, COMPAT_APP: app, COMPAT_MONGO_URL: `${mongoUrl}/compat_${m.major}`, COMPAT_DOWN_URL: downUrl });
    timings.startMs = Date.now() - started;
  }, 1_200_000);

  afterAll(async () => {
    await server?.stop();
    console.log(`[compat] Next.js ${m.major}: ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }, 30_000);

  it(`npm installs the package next to next ${m.next}, next-connect ${m.nextConnect.own}, mongodb ${m.mongodb}; next build needs no database variables`, () => {
    expect(install.ok, install.output).toBe(true);
    expect(installed(dir, "next")).toBe(m.next);
    expect(installed(dir, "mongodb")).toBe(m.mongodb);
    expect(installed(dir, "next-connect")).toBe(m.nextConnect.own);
    expect(build?.code, build?.output.slice(-6000)).toBe(0);
    expect(server).toBeDefined();
  });

  it(`one pool for ${m.appRouter ? "Pages routes, the App route [id]" : "the Pages routes"}${m.instrumentation !== "none" ? " and instrumentation.js" : ""}, counted on the server`, async () => {
    if (m.instrumentation !== "none") {
      // instrumentation.js connected at start-up, before any request: one connection (its SELECT 1).
      expect(await waitFor(() => pgConnectionCount(app), (n) => n >= 1, 20_000)).toBe(1);
    }
    const urls = [
      ...Array.from({ length: 6 }, () => `${server!.url}/api/v0/notes?sleep=${HOLD_S}`),
      ...Array.from({ length: 6 }, () => `${server!.url}/api/v1/notes?sleep=${HOLD_S}`),
      ...(m.appRouter ? Array.from({ length: 6 }, (_, i) => `${server!.url}/api/notes/${i + 1}?sleep=${HOLD_S}`) : []),
    ];
    const sampler = samplePeak(() => pgConnectionCount(app), 20);
    const replies = await Promise.all(urls.map(get));
    const { peak } = await sampler.stop();
    for (const r of replies) expect(r.status, r.text).toBe(200);
    const bodies = replies.map((r) => JSON.parse(r.text) as { router: string; id?: string; process: number });
    expect(new Set(bodies.map((b) => b.router))).toEqual(new Set(["next-connect v0", "next-connect v1", ...(m.appRouter ? ["app"] : [])]));
    if (m.appRouter) expect(bodies.filter((b) => b.router === "app").map((b) => b.id).sort()).toEqual(["1", "2", "3", "4", "5", "6"]);
    // Every request held a connection: the pool opened all it may, and no bundle opened another.
    expect(peak).toBe(POOL_MAX);
    expect(await pgConnectionCount(app)).toBe(POOL_MAX);
  }, 60_000);

  it.runIf(m.appRouter)("control: the NODE_ENV-guarded singleton opens one pool per bundle (Pages and App)", async () => {
    const naive = `${app}_naive`;
    const urls = [
      ...Array.from({ length: 6 }, () => `${server!.url}/api/naive?sleep=${HOLD_S}`),
      ...Array.from({ length: 6 }, () => `${server!.url}/api/naive-app?sleep=${HOLD_S}`),
    ];
    const sampler = samplePeak(() => pgConnectionCount(naive), 20);
    const replies = await Promise.all(urls.map(get));
    const { peak } = await sampler.stop();
    for (const r of replies) expect(r.status, r.text).toBe(200);
    expect(peak).toBeGreaterThan(POOL_MAX);
  }, 60_000);

  it.skipIf(needsWireServer("connection table (one client per app)"))(`mongodb ${m.mongodb} through the package: CRUD, one client on the server`, async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, () => get(`${server!.url}/api/mongo`)));
    for (const r of replies) expect(r.status, r.text).toBe(200);
    expect(Math.max(...replies.map((r) => (JSON.parse(r.text) as { visits: number }).visits))).toBe(5);
    const ours = mongo.connections().filter((c) => c.appName === app);
    expect(new Set(ours.map((c) => c.driverVersion?.split(".")[0]))).toEqual(new Set([m.mongodb.split(".")[0]]));
    // A driver client is one monitoring connection (hello only) plus its pool: one monitor, one client.
    expect(ours.filter((c) => c.operations === 0)).toHaveLength(1);
  }, 60_000);

  it("database down: the API route answers JSON 503; getServerSideProps gets run()'s rejection (v0, v1) and renders its page; nothing pending", async () => {
    const api = await get(`${server!.url}/api/down`);
    expect(api.status).toBe(503);
    expect(api.type).toContain("application/json");
    expect(JSON.parse(api.text)).toMatchObject({ error: "database_unavailable" });
    expect(Number(api.retryAfter)).toBeGreaterThanOrEqual(1);
    for (const page of ["down-v0", "down-v1"]) {
      const r = await get(`${server!.url}/${page}`);
      expect(r.status, `${page}: ${r.text.slice(0, 500)}`).toBe(200);
      expect(r.type).toContain("text/html");
      expect(r.text).toMatch(/id="outcome">error</);
      expect(r.text).toMatch(/id="name">DatabaseUnavailableError</);
      expect(r.text).toMatch(/id="status">503</);
    }
    const runs = JSON.parse((await get(`${server!.url}/api/runs`)).text) as { started: number; pending: number };
    expect(runs).toMatchObject({ started: 2, pending: 0 });
  }, 60_000);

  it("control: a middleware that answers by itself in a page render sends JSON and leaves run() pending", async () => {
    const r = await get(`${server!.url}/control-answers-itself`);
    expect(r.status).toBe(503);
    expect(r.type).toContain("application/json");
    const runs = JSON.parse((await get(`${server!.url}/api/runs`)).text) as { pending: number };
    expect(runs.pending).toBe(1);
  }, 60_000);

  it.runIf(m.major === 12)("control: the former peer ranges (mongodb >=6 <8, next >=13) fail npm install here with ERESOLVE", async () => {
    const old = await packWithPeerRanges({ mongodb: ">=6 <8", next: ">=13" });
    try {
      const r = await npmInstallTarball(dir, old.tarball, { dryRun: true });
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(/ERESOLVE/);
    } finally {
      await old.remove();
    }
  }, 300_000);
});
