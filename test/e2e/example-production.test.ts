/**
 * The example app under `next build` + `next start`, on an embedded
 * PostgreSQL started through the same module `npm run example` uses.
 *
 * One build, reused by every test here. Every connection count comes from
 * the server (pg_stat_activity by application_name). Controls, in the same
 * app and the same run: the NODE_ENV-guarded globalThis singleton, used from
 * a Pages route and an App route, shows two pools on the server.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, freePort, type EmbeddedPostgresHandle } from "../../example-app/scripts/embedded-postgres.mjs";
import { DRIVER_VARIABLES, repoRoot, runNext, startNext, waitForHttp, withoutDatabaseEnv, type NextProcess } from "../../example-app/scripts/next-process.mjs";
import { findBrowser, launchBrowser } from "../support/browser.js";
import { samplePeak } from "../support/peak.js";
import { waitFor } from "../support/wait.js";
import { copyExampleApp, E2E_ARTIFACTS } from "./support/app-copy.js";
import { appStatus, request, sendJson, type Reply } from "./support/app-http.js";
import { serverCounter } from "./support/server-count.js";

const APP = "next-db-connect-example"; // lib/driver.ts APPLICATION_NAME
const CONTROL_SINGLETON = "next-db-connect-example-control-singleton";
const POOL_MAX = 5; // lib/driver.ts POOL_MAX

let db: EmbeddedPostgresHandle;
let app: ReturnType<typeof copyExampleApp>;
let server: NextProcess | undefined;
let counter: ReturnType<typeof serverCounter>;
let base = "";
let buildEnv: Record<string, string | undefined> = {};
let buildOutput = "";
let browser: Browser | undefined;

// Found before the tests are collected, so that a machine where no Chromium
// starts skips the browser check with the reason instead of failing it.
const browserSearch = await findBrowser();
if (browserSearch.found) {
  const passedOver = browserSearch.passedOver.length ? ` (passed over: ${browserSearch.passedOver.join("; ")})` : "";
  console.log(`[e2e] browser: ${browserSearch.found.source} at ${browserSearch.found.executablePath}${passedOver}`);
} else {
  console.log(`[e2e] browser check skipped: ${browserSearch.missing}`);
}

beforeAll(async () => {
  // `next build` typechecks the app against the package's declarations: a
  // dist/ without them (a build made with --no-dts) must be completed first.
  if (!existsSync(join(repoRoot, "dist", "index.d.ts"))) execFileSync("npx", ["tsup", "--silent"], { cwd: repoRoot, stdio: "ignore" });
  db = await startEmbeddedPostgres();
  counter = serverCounter(db.url);
  app = copyExampleApp("production");
  // Contract 5 (lazy, build-safe): the build gets no database variable at all.
  buildEnv = withoutDatabaseEnv(process.env);
  buildOutput = await runNext(["build"], { cwd: app.dir, env: buildEnv });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = startNext(["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: app.dir,
    env: { ...withoutDatabaseEnv(process.env), DATABASE_URL: db.url },
  });
  await waitForHttp(`${base}/api/health`, server);
}, 420_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  await counter?.close().catch(() => {});
  await db?.destroy();
  app?.remove();
}, 60_000);

describe("example app, next build + next start", () => {
  it("next build succeeds with no database environment variables", async () => {
    for (const name of DRIVER_VARIABLES) expect(buildEnv[name], name).toBeUndefined();
    expect(buildOutput).toMatch(/Compiled successfully/);
    expect(buildOutput).toMatch(/\/api\/legacy\/notes/);
  });

  it("Pages (v1, v0), App Router and a Server Component share one pool: connects === 1, server count <= max; control: two pools", async () => {
    const created = await request(base, "/api/notes", sendJson("POST", { text: "from the e2e test" }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // Every entry point, many times over, concurrently, while the server's count is sampled.
    const peak = samplePeak(() => counter.count(APP), 20);
    const calls: Array<() => Promise<Reply>> = [];
    for (let round = 0; round < 25; round++) {
      calls.push(
        () => request(base, "/api/notes"),
        () => request(base, `/api/notes/${id}`),
        () => request(base, "/api/legacy/notes"),
        () => request(base, "/api/app/notes"),
        () => request(base, `/api/app/notes/${id}`),
        () => request(base, "/"),
        () => request(base, `/api/app/notes/${id}`, sendJson("PUT", { text: `round ${round}` })),
      );
    }
    const replies = await Promise.all(calls.map((call) => call()));
    const { peak: serverPeak } = await peak.stop();
    expect(replies.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    // The Server Component read the row; the PUTs run concurrently with it, so
    // it may show the created text or any round's update, but one of them.
    expect(replies[5]!.body as string).toMatch(/<li>(from the e2e test|round \d+)<\/li>/);

    // CRUD through each router.
    const viaV0 = await request(base, "/api/legacy/notes", sendJson("POST", { text: "v0" }));
    expect(viaV0.status).toBe(201);
    expect((await request(base, `/api/notes/${viaV0.body.id}`)).body.text).toBe("v0");
    expect((await request(base, `/api/notes/${viaV0.body.id}`, sendJson("PUT", { text: "v0 edited" }))).body.text).toBe("v0 edited");
    expect((await request(base, `/api/app/notes/${viaV0.body.id}`)).body.text).toBe("v0 edited");
    expect((await request(base, `/api/app/notes/${viaV0.body.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await request(base, `/api/notes/${viaV0.body.id}`)).status).toBe(404);
    expect((await request(base, "/api/app/notes", sendJson("POST", {}))).status).toBe(400);

    const status = await appStatus(base);
    const entries = new Set(status.entries.map((e) => e.entry));
    const bundles = new Set(status.entries.map((e) => e.moduleEvaluation));
    const onServer = await counter.count(APP);
    console.log(
      `[e2e] one pool: connects=${status.stats.connects}, server peak=${serverPeak}, now=${onServer}, ` +
        `lib/database.ts evaluations=${status.databaseModuleEvaluations}, bundles that used it=${bundles.size}`,
    );
    expect(status.stats.connects).toBe(1);
    expect(serverPeak).toBeGreaterThanOrEqual(1);
    expect(serverPeak).toBeLessThanOrEqual(POOL_MAX);
    expect(onServer).toBeLessThanOrEqual(POOL_MAX);
    for (const entry of [
      "instrumentation.ts register()",
      "pages/api/notes (next-connect v1)",
      "pages/api/legacy/notes (next-connect v0)",
      "app/api/app/notes (route handler)",
      "app/page.tsx (Server Component)",
    ]) {
      expect(entries, entry).toContain(entry);
    }
    // Instrumentation, Pages API, App route handlers and the RSC page are separate bundles.
    expect(bundles.size).toBeGreaterThanOrEqual(3);
    expect(status.databaseModuleEvaluations).toBeGreaterThanOrEqual(bundles.size);

    // CONTROL: the NODE_ENV-guarded singleton, from a Pages route and an App route.
    expect(await counter.count(CONTROL_SINGLETON)).toBe(0);
    const [pages, appRoute] = await Promise.all([request(base, "/api/control/singleton-pages"), request(base, "/api/control/singleton-app")]);
    expect([pages.status, appRoute.status]).toEqual([200, 200]);
    await Promise.all([request(base, "/api/control/singleton-pages"), request(base, "/api/control/singleton-app")]);
    const controlPools = await counter.count(CONTROL_SINGLETON);
    console.log(`[e2e] control (NODE_ENV-guarded singleton): ${controlPools} connections on the server from 2 bundles`);
    expect(controlPools).toBe(2); // one pool per bundle, each holding one idle connection
    expect((await appStatus(base)).stats.connects).toBe(1);
  }, 180_000);

  it.skipIf(!browserSearch.found)("headless Chromium: /status shows the JSON route's figures and the server's count", async () => {
    browser = await launchBrowser(browserSearch.found!);
    const page = await browser.newPage({ viewport: { width: 1040, height: 760 } });
    await page.goto(`${base}/status`);
    // Some traffic while the page polls, so the chart has something to draw.
    for (let i = 0; i < 6; i++) {
      await Promise.all(Array.from({ length: 8 }, () => request(base, "/api/app/notes")));
      await page.waitForTimeout(700);
    }
    await page.waitForTimeout(1500); // one more poll after the traffic: the pool is idle and stable now

    const shown = async (id: string) => Number(await page.getByTestId(id).innerText());
    const read = async () => ({
      open: await shown("open"),
      inUse: await shown("in-use"),
      connects: await shown("connects"),
      server: await shown("server-connections"),
      max: await shown("max"),
    });
    const json = await appStatus(base);
    const onServer = await counter.count(APP);
    // The page may be one poll behind: wait until it shows what the JSON route and the server say.
    const onPage = await waitFor(read, (p) => p.open === json.stats.pool!.open && p.server === onServer, 5000, 200);
    console.log(`[e2e] /status shows ${JSON.stringify(onPage)}; JSON open=${json.stats.pool!.open}; server count=${onServer}`);
    expect(onPage.connects).toBe(1);
    expect(onPage.connects).toBe(json.stats.connects);
    expect(onPage.open).toBe(json.stats.pool!.open);
    expect(onPage.max).toBe(POOL_MAX);
    expect(onPage.server).toBe(onServer); // the page's server-side figure is the server's own count
    expect(onPage.open).toBe(onServer); // idle pool: every open connection is one the server sees
    expect(await page.getByTestId("summary").innerText()).toMatch(/One pool serves everything/);
    expect(await page.locator("svg polyline").count()).toBe(3);

    mkdirSync(E2E_ARTIFACTS, { recursive: true });
    const shot = join(E2E_ARTIFACTS, "status.png");
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_EXAMPLE_SCREENSHOT === "1") copyFileSync(shot, join(repoRoot, "docs", "example-status.png"));
  }, 120_000);

  it("database stopped: 503 + Retry-After + database_unavailable; restarted on the same port: 200 again, same process", async () => {
    const before = await appStatus(base);
    expect((await request(base, "/api/notes")).status).toBe(200);

    await db.stop();
    const down: Record<string, Reply> = {};
    const seen: Record<string, number[]> = {};
    for (const path of ["/api/notes", "/api/app/notes", "/api/legacy/notes", "/api/app/notes/1", "/api/health"]) {
      seen[path] = [];
      down[path] = await waitFor(
        async () => {
          const reply = await request(base, path);
          seen[path]!.push(reply.status);
          return reply;
        },
        (r) => r.status === 503,
        20_000,
        100,
      );
    }
    // Not one request failed any other way (no 500, no hang) while the database was gone.
    expect(Object.values(seen).flat().filter((s) => s !== 503)).toEqual([]);
    for (const [path, reply] of Object.entries(down)) {
      expect(reply.status, path).toBe(503);
      expect(Number(reply.retryAfter), path).toBeGreaterThan(0);
      if (path !== "/api/health") expect(reply.body.error, path).toBe("database_unavailable");
    }
    expect(JSON.stringify(down)).not.toContain(db.url);

    await db.start();
    const back = await waitFor(() => request(base, "/api/notes"), (r) => r.status === 200, 60_000, 250);
    expect(back.status).toBe(200);
    for (const path of ["/api/app/notes", "/api/legacy/notes", "/", "/api/health"]) {
      expect((await request(base, path)).status, path).toBe(200);
    }
    const after = await appStatus(base);
    console.log(`[e2e] outage: ${JSON.stringify(Object.fromEntries(Object.entries(down).map(([p, r]) => [p, `${seen[p]!.join(",")} Retry-After ${r.retryAfter}`])))}; after: state=${after.stats.state}, failures=${after.stats.failures}, connects=${after.stats.connects}`);
    expect(after.pid).toBe(before.pid); // no restart of the app
    expect(server!.child.exitCode).toBeNull();
    expect(await counter.count(APP)).toBeLessThanOrEqual(POOL_MAX);
  }, 150_000);
});
