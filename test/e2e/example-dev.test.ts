/**
 * The example app under `next dev`, with real edits: lib/database.ts and an
 * App Router route file are edited 20 times; after each edit the test waits
 * for the recompile (the module's evaluation counter moves) and sends
 * requests. The server's count of the app's connections stays constant and
 * the pool connects once.
 *
 * CONTROL, same app, same run: a route on a module-scope pool
 * (control/module-scope-pool.ts, edited alongside) gains a pool, and a
 * connection on the server, with every edit.
 *
 * The edits go to a throwaway copy under test/artifacts/ (git-ignored), so a
 * failing run never leaves a tracked file edited.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../example-app/scripts/embedded-postgres.mjs";
import { startNext, waitForHttp, withoutDatabaseEnv, type NextProcess } from "../../example-app/scripts/next-process.mjs";
import { waitFor } from "../support/wait.js";
import { copyExampleApp } from "./support/app-copy.js";
import { appStatus, request } from "./support/app-http.js";
import { serverCounter } from "./support/server-count.js";

const APP = "next-db-connect-example";
const CONTROL_MODULE_SCOPE = "next-db-connect-example-control-module-scope";
const EDITS = 20;

let db: EmbeddedPostgresHandle;
let app: ReturnType<typeof copyExampleApp>;
let server: NextProcess | undefined;
let counter: ReturnType<typeof serverCounter>;
let base = "";

beforeAll(async () => {
  db = await startEmbeddedPostgres();
  counter = serverCounter(db.url);
  app = copyExampleApp("dev");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = startNext(["dev", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: app.dir,
    env: { ...withoutDatabaseEnv(process.env), DATABASE_URL: db.url, NODE_ENV: "development" },
  });
  await waitForHttp(`${base}/api/health`, server, 300_000);
}, 360_000);

afterAll(async () => {
  await server?.stop();
  await counter?.close().catch(() => {});
  await db?.destroy();
  app?.remove();
}, 60_000);

/**
 * Requests every route the edits touch; throws on anything but 200. One at a
 * time, so a pool never needs a second connection: each pool's server-side
 * footprint is exactly one connection, and any growth is a new pool.
 */
async function exercise(): Promise<{ controlEvaluation: number }> {
  const pages = await request(base, "/api/notes");
  const appRoute = await request(base, "/api/app/notes");
  const control = await request(base, "/api/control/module-scope");
  for (const [name, r] of Object.entries({ pages, appRoute, control })) {
    if (r.status !== 200) throw new Error(`${name} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  }
  return { controlEvaluation: control.body.evaluation as number };
}

describe("example app, next dev with 20 real edits", () => {
  it("one connect and a constant server-side count; control: a module-scope pool grows with every edit", async () => {
    await exercise();
    const first = await appStatus(base);
    const ours0 = await counter.count(APP);
    const control0 = await counter.count(CONTROL_MODULE_SCOPE);
    const ours: number[] = [];
    const control: number[] = [];
    let evaluations = first.databaseModuleEvaluations;
    let controlEvaluation = (await exercise()).controlEvaluation;
    const started = Date.now();

    for (let edit = 1; edit <= EDITS; edit++) {
      const mark = `\n// e2e edit ${edit}\n`;
      appendFileSync(join(app.dir, "lib/database.ts"), mark);
      appendFileSync(join(app.dir, "app/api/app/notes/route.ts"), mark);
      appendFileSync(join(app.dir, "control/module-scope-pool.ts"), mark);
      // Recompiled and re-evaluated: both modules' evaluation counters have moved.
      const seen = await waitFor(
        async () => {
          const { controlEvaluation: c } = await exercise();
          return { c, s: await appStatus(base) };
        },
        ({ c, s }) => c > controlEvaluation && s.databaseModuleEvaluations > evaluations,
        60_000,
        200,
      );
      expect(seen.c, `control module re-evaluated after edit ${edit}`).toBeGreaterThan(controlEvaluation);
      expect(seen.s.databaseModuleEvaluations, `lib/database.ts re-evaluated after edit ${edit}`).toBeGreaterThan(evaluations);
      controlEvaluation = seen.c;
      evaluations = seen.s.databaseModuleEvaluations;
      await exercise();
      expect(seen.s.stats.connects).toBe(1);
      ours.push(await counter.count(APP));
      control.push(await counter.count(CONTROL_MODULE_SCOPE));
    }

    const last = await appStatus(base);
    console.log(
      `[e2e dev] ${EDITS} edits in ${Math.round((Date.now() - started) / 1000)} s; lib/database.ts evaluations ` +
        `${first.databaseModuleEvaluations} -> ${last.databaseModuleEvaluations}; connects ${last.stats.connects}; ` +
        `server count, ours: ${ours0} then ${ours.join(",")}; control (module-scope pool): ${control0} then ${control.join(",")}`,
    );
    expect(last.stats.connects).toBe(1);
    expect(last.pid).toBe(first.pid); // hot reloads, not server restarts
    expect(ours).toEqual(Array(EDITS).fill(ours0));
    // CONTROL: every edit left one more pool holding a connection.
    control.forEach((n, i) => expect(n, `control after edit ${i + 1}`).toBe(control0 + i + 1));
  }, 600_000);
});
