/**
 * The ESM/TypeScript fixture app, migrated by the codemod, then built with
 * the real `next build` (which typechecks the rewritten TypeScript) and run
 * with `next start`: Pages Router and App Router routes, two bundles, one
 * process. The unmigrated modules run in the same app as controls (written by
 * the test after the codemod, with their environment variables renamed).
 *
 * Every count is the server's: pg_stat_activity by application_name, MariaDB's
 * processlist by user, the MongoDB wire server's connections by appName.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without declarations
import { linkLocalPackage } from "../../scripts/link-local-package.mjs";
import { projectRoot } from "../support/build.js";
import { MongoWireServer } from "../support/mongo-wire/index.js";
import { mongoTarget, type MongoTarget } from "../support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "../support/mysql.js";
import { nextStart, type NextServer } from "../support/next-app.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { cli, copyFixture, ensureBuilt, FIXTURES } from "./support/cli.js";
import { burst, get, until } from "./support/processes.js";

const run = promisify(execFile);
const NEXT_BIN = join(projectRoot, "node_modules", "next", "dist", "bin", "next");

let mongoB: MongoTarget;
const mongoA = new MongoWireServer(); // stopped and started by the outage test
let users: { m: MysqlTestUser; c: MysqlTestUser; t: MysqlTestUser };
const names = {
  pg: { m: uniqueName("ndc_cm_next_m"), c: uniqueName("ndc_cm_next_c") },
  mongoA: { m: uniqueName("ndc_cm_a_m"), c: uniqueName("ndc_cm_a_c") },
  mongoB: uniqueName("ndc_cm_b"),
  mongoE: uniqueName("ndc_cm_e"),
  mongoT: uniqueName("ndc_cm_t"),
  mongoT2: uniqueName("ndc_cm_t2"),
};
let app: ReturnType<typeof copyFixture>;
let server: NextServer | undefined;
let report: { files: { file: string; changed: string[] }[] };

function withParams(uri: string, path: string, params: Record<string, string>): string {
  const url = new URL(uri);
  url.pathname = path;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/** The unmigrated module as the control, reading its own environment variables. */
function writeControl(from: string, to: string, renames: Record<string, string>): void {
  let text = readFileSync(join(FIXTURES, "next-app", from), "utf8");
  for (const [a, b] of Object.entries(renames)) text = text.replaceAll(a, b);
  mkdirSync(join(app.dir, "control"), { recursive: true });
  writeFileSync(join(app.dir, to), text);
}

beforeAll(async () => {
  ensureBuilt();
  mongoB = await mongoTarget();
  const uriA = await mongoA.start();
  users = { m: await createMysqlUser("ndc_cm_nm"), c: await createMysqlUser("ndc_cm_nc"), t: await createMysqlUser("ndc_cm_nt") };
  app = copyFixture("next-app", "next");
  const migrated = await cli(["migrate", app.dir, "--json"]);
  expect(migrated.code, migrated.stderr).toBe(0);
  report = JSON.parse(migrated.stdout);

  writeControl("lib/pg.ts", "control/pg.ts", { NDC_PG_APP: "NDC_CONTROL_PG_APP" });
  writeControl("lib/mysql.js", "control/mysql.js", { NDC_MYSQL_URL: "NDC_CONTROL_MYSQL_URL" });
  writeControl("lib/mongodb.ts", "control/mongodb.ts", { MONGODB_URI: "NDC_CONTROL_MONGODB_URI", NDC_MONGO_APP: "NDC_CONTROL_MONGO_APP" });
  writeControl("pages/api/b/legacy.js", "pages/api/control/legacy.js", {});
  (linkLocalPackage as (dir: string) => string)(app.dir);

  const pgUrl = await postgresUrl();
  const env: Record<string, string> = {
    NDC_PG_URL: pgUrl,
    NDC_PG_APP: names.pg.m,
    NDC_CONTROL_PG_APP: names.pg.c,
    NDC_MYSQL_URL: users.m.url,
    NDC_CONTROL_MYSQL_URL: users.c.url,
    MONGODB_URI: uriA,
    NDC_CONTROL_MONGODB_URI: uriA,
    NDC_MONGO_APP: names.mongoA.m,
    NDC_CONTROL_MONGO_APP: names.mongoA.c,
    NDC_MW_MONGO_URI: withParams(mongoB.uri, "/codemod_b", { appName: names.mongoB, maxPoolSize: "2" }),
    NDC_LEGACY_MONGO_URI: withParams(mongoB.uri, "/", { appName: names.mongoE }),
    NDC_LEGACY_MONGO_DB: "codemod_e",
    NDC_TS_MONGO_URI: withParams(mongoB.uri, "/", { appName: names.mongoT }),
    NDC_TS2_MONGO_URI: withParams(mongoB.uri, "/", { appName: names.mongoT2 }),
    NDC_TS_MYSQL_URL: users.t.url,
  };
  await run(process.execPath, [NEXT_BIN, "build"], {
    cwd: app.dir,
    env: { ...process.env, ...env, NEXT_TELEMETRY_DISABLED: "1", NDC_REPO_ROOT: `${projectRoot}/` } as NodeJS.ProcessEnv,
    timeout: 240_000,
    maxBuffer: 20_000_000,
  });
  // The MongoDB of lib/mongodb.ts is down when the app starts.
  await mongoA.stop();
  server = await nextStart(app.dir, env);
}, 300_000);

afterAll(async () => {
  server?.kill();
  await server?.exited;
  await mongoA.stop();
  await mongoB?.close();
  for (const u of Object.values(users ?? {})) await u.drop().catch(() => {});
  await closeMysqlAdmin();
  await closeAdmin();
  app?.remove();
}, 60_000);

function base(): string {
  return server!.url;
}

describe("ESM/TypeScript app migrated by the codemod, under next build + next start", () => {
  it("the codemod rewrote the eight database modules and the v0 onError line, and the app builds (typechecked)", () => {
    expect(report.files.filter((f) => f.changed.length > 0).map((f) => f.file).sort()).toEqual([
      "lib/connect.ts",
      "lib/mongo-legacy.js",
      "lib/mongodb.ts",
      "lib/mysql-ts.ts",
      "lib/mysql.js",
      "lib/pg.ts",
      "middlewares/database-ts.ts",
      "middlewares/database.js",
      "pages/api/b/legacy.js",
    ]);
  });

  it("clientPromise taken by connect-mongo at import during a start-up outage: the unmigrated one stays rejected after the database is back; the migrated one settles", async () => {
    const [m1, c1] = await Promise.all([get(base(), "/api/a/session", 3000), get(base(), "/api/control/session", 3000)]);
    expect(c1.status).toBe(500);
    expect(m1.status).not.toBe(200); // still waiting for the database (or failed): not answered with data
    await mongoA.start();
    const m2 = await until(() => get(base(), "/api/a/session", 5000), 200, 15_000);
    expect(m2.body).toEqual({ sessions: 0 });
    for (let i = 0; i < 3; i++) {
      expect((await get(base(), "/api/control/session")).status).toBe(500);
      await new Promise((r) => setTimeout(r, 300));
    }
  });

  it("lib/mongodb.ts from the Pages and the App Router bundles, concurrently: one MongoClient on the server", async () => {
    const replies = [...(await Promise.all([burst(base(), "/api/a/mongo", 10), burst(base(), "/api/app/a/mongo", 10)])).flat()];
    for (const r of replies) expect(r.body).toEqual({ items: 0 });
    const sockets = mongoA.connections().filter((c) => c.appName === names.mongoA.m).length;
    expect(sockets).toBeGreaterThanOrEqual(1);
    expect(sockets).toBeLessThanOrEqual(2); // maxPoolSize 1 + the monitor
  });

  it("the next-connect middleware: router.use(database) sets req.db (the URL's database) and req.dbClient, createIndexes ran through onConnect, getMongoClient() feeds connect-mongo and an App route, one client", async () => {
    const [users, sessions, client] = await Promise.all([burst(base(), "/api/b/users", 10), burst(base(), "/api/b/session", 5), burst(base(), "/api/app/b/client", 5)]);
    for (const r of users) expect(r.body).toEqual({ users: 0, indexes: ["_id_", "email_1"], session: "function" });
    for (const r of sessions) expect(r.body).toEqual({ sessions: 0 });
    for (const r of client) expect(r.body).toEqual({ users: 0 });
    if (mongoB.server) {
      const sockets = mongoB.server.connections().filter((c) => c.appName === names.mongoB).length;
      expect(sockets).toBeGreaterThanOrEqual(1);
      expect(sockets).toBeLessThanOrEqual(3); // maxPoolSize 2 + the monitor
    }
  });

  it("connectToDatabase() of the older example (cachedClient/cachedDb, driver 3.x options): still { client, db }, one client across concurrent requests", async () => {
    const replies = await burst(base(), "/api/e/mongo", 10);
    for (const r of replies) expect(r.body).toEqual({ movies: 0, db: "codemod_e", client: "function" });
    if (mongoB.server) {
      const sockets = mongoB.server.connections().filter((c) => c.appName === names.mongoE).length;
      expect(sockets).toBeGreaterThanOrEqual(1);
      expect(sockets).toBeLessThanOrEqual(2); // maxPoolSize 1 + the monitor
    }
  });

  it("TypeScript: the typed middleware under createRouter<DbRequest>, connectToDatabase(), and a mysql2 pool read with query<RowDataPacket[]>/execute<...>, from both routers: one client or pool each", async () => {
    const [typed, connect, mp, ma] = await Promise.all([
      burst(base(), "/api/t/users", 10),
      burst(base(), "/api/app/t/connect", 10),
      burst(base(), "/api/t/mysql", 10),
      burst(base(), "/api/app/t/mysql", 10),
    ]);
    for (const r of typed) expect(r.body).toEqual({ users: 0, db: "codemod_t", client: "function" });
    for (const r of connect) expect(r.body).toEqual({ users: 0, db: "codemod_t", client: "function" });
    for (const r of mp) expect(r.body).toEqual({ n: 5 });
    for (const r of ma) expect(r.body).toEqual({ n: 6 });
    expect(await mysqlConnectionCount(users.t.user)).toBe(1); // connectionLimit: 1
    if (mongoB.server) {
      for (const appName of [names.mongoT, names.mongoT2]) {
        const sockets = mongoB.server.connections().filter((c) => c.appName === appName).length;
        expect(sockets, appName).toBeGreaterThanOrEqual(1);
        expect(sockets, appName).toBeLessThanOrEqual(2); // maxPoolSize 1 + the monitor
      }
    }
  });

  it("next-connect v0 onError: the app's own answers are unchanged; a connection lost mid-request is a 503 where the unmigrated route gave the app's 500", async () => {
    expect((await get(base(), "/api/b/legacy")).body).toEqual({ ok: true, db: "codemod_b" });
    const [mApp, cApp] = await Promise.all([get(base(), "/api/b/legacy?fail=app"), get(base(), "/api/control/legacy?fail=app")]);
    expect(mApp.status).toBe(418);
    expect(mApp.body).toEqual(cApp.body);
    expect(mApp.body).toEqual({ handledBy: "app", message: "teapot" });
    const [mLost, cLost] = await Promise.all([get(base(), "/api/b/legacy?fail=lost"), get(base(), "/api/control/legacy?fail=lost")]);
    expect(cLost.status).toBe(500);
    expect(cLost.body.handledBy).toBe("app");
    expect(mLost.status).toBe(503);
    expect(mLost.body.error).toBe("database_unavailable");
    expect(mLost.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("pg NODE_ENV-guarded singleton (TypeScript, pool.query<T>): Pages + App concurrently, one pool on the server; the unmigrated module, one pool per bundle", async () => {
    const [mp, ma, cp, ca] = await Promise.all([
      burst(base(), "/api/c/pg", 10),
      burst(base(), "/api/app/c/pg", 10),
      burst(base(), "/api/control/pg", 10),
      burst(base(), "/api/app/control/pg", 10),
    ]);
    for (const r of mp) expect(r.body).toEqual({ n: 1 });
    for (const r of ma) expect(r.body).toEqual({ n: 2 });
    for (const r of [...cp, ...ca]) expect(r.body).toEqual({ n: 1 });
    expect(await pgConnectionCount(names.pg.m)).toBe(1); // max: 1
    expect(await pgConnectionCount(names.pg.c)).toBe(2); // max: 1, in each of two bundles
  });

  it("mysql2 module-scope pool (query and execute): Pages + App concurrently, one pool on the server; the unmigrated module, one pool per bundle", async () => {
    const [mp, ma, cp, ca] = await Promise.all([
      burst(base(), "/api/d/mysql", 10),
      burst(base(), "/api/app/d/mysql", 10),
      burst(base(), "/api/control/mysql", 10),
      burst(base(), "/api/app/control/mysql", 10),
    ]);
    for (const r of mp) expect(r.body).toEqual({ n: 1 });
    for (const r of ma) expect(r.body).toEqual({ n: 2 });
    for (const r of [...cp, ...ca]) expect(r.body).toEqual({ n: 1 });
    expect(await mysqlConnectionCount(users.m.user)).toBe(1); // connectionLimit: 1
    expect(await mysqlConnectionCount(users.c.user)).toBe(2);
  });
});
