/**
 * The CommonJS fixture app (next-connect v0, pg, mysql2/promise, MongoDB),
 * migrated by the codemod and run for real under a plain Node.js server,
 * next to an unmigrated copy in the same run as the control. Every count is
 * the server's own: pg_stat_activity by application_name, MariaDB's
 * processlist by user, the MongoDB wire server's connections by appName.
 *
 * "Hot reload" is what a dev server does: the app's modules are dropped from
 * require's cache and evaluated again. NODE_ENV is production, as under
 * `next start`, where the NODE_ENV-guarded singleton makes a pool per evaluation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without declarations
import { linkLocalPackage } from "../../scripts/link-local-package.mjs";
import { MongoWireServer } from "../support/mongo-wire/index.js";
import { mongoTarget, type MongoTarget } from "../support/mongodb-target.js";
import { createMysqlUser, mysqlConnectionCount, closeMysqlAdmin, type MysqlTestUser } from "../support/mysql.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { cli, copyFixture, ensureBuilt } from "./support/cli.js";
import { burst, get, startCjsApp, until, type AppServer } from "./support/processes.js";

let mongo: MongoTarget;
const outage = new MongoWireServer();
let users: { m: MysqlTestUser; c: MysqlTestUser };
const pgApp = { m: uniqueName("ndc_cm_cjs_m"), c: uniqueName("ndc_cm_cjs_c") };
const mongoApp = { m: uniqueName("ndc_cm_cjs_m"), c: uniqueName("ndc_cm_cjs_c") };
let apps: { m: ReturnType<typeof copyFixture>; c: ReturnType<typeof copyFixture> };
let migrated: AppServer;
let control: AppServer;
let report = "";

function withAppName(uri: string, appName: string): string {
  const url = new URL(uri);
  url.searchParams.set("appName", appName);
  return url.toString();
}

beforeAll(async () => {
  ensureBuilt();
  mongo = await mongoTarget();
  const outageUri = await outage.start();
  await outage.stop(); // the connectToDatabase() fixture starts during an outage
  users = { m: await createMysqlUser("ndc_cm_m"), c: await createMysqlUser("ndc_cm_c") };
  apps = { m: copyFixture("cjs-app", "cjs-migrated"), c: copyFixture("cjs-app", "cjs-control") };
  (linkLocalPackage as (dir: string) => string)(apps.m.dir);
  const r = await cli(["migrate", apps.m.dir]);
  expect(r.code, r.stderr).toBe(0);
  report = r.stdout;
  const pgUrl = await postgresUrl();
  const env = (k: "m" | "c") => ({
    NODE_ENV: "production",
    NDC_CJS_PG_URL: pgUrl,
    NDC_CJS_PG_APP: pgApp[k],
    NDC_CJS_MYSQL_URL: users[k].url,
    NDC_CJS_MONGO_URI: withAppName(mongo.uri, mongoApp[k]),
    NDC_CJS_MONGO_URI2: withAppName(outageUri, `${mongoApp[k]}_outage`),
    NDC_CJS_DB: `codemod_cjs_${k}`,
  });
  [migrated, control] = await Promise.all([startCjsApp(apps.m.dir, env("m")), startCjsApp(apps.c.dir, env("c"))]);
}, 120_000);

afterAll(async () => {
  await migrated?.stop();
  await control?.stop();
  await outage.stop();
  await mongo?.close();
  for (const u of Object.values(users ?? {})) await u.drop().catch(() => {});
  await closeMysqlAdmin();
  await closeAdmin();
  apps?.m.remove();
  apps?.c.remove();
}, 60_000);

describe("CommonJS app migrated by the codemod, run under a plain Node.js server", () => {
  it("the codemod rewrote the four database modules and the v0 onError line", () => {
    expect(report).toMatch(/changed 5 files; 0 items left for a human/);
  });

  it("three hot reloads with 10 concurrent requests each: the migrated pg and mysql2 modules keep one pool; the unmigrated ones open one per evaluation", async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all([get(migrated.base, "/__reload"), get(control.base, "/__reload")]);
      const [mPg, mMy, cPg, cMy] = await Promise.all([
        burst(migrated.base, "/pg", 10),
        burst(migrated.base, "/mysql", 10),
        burst(control.base, "/pg", 10),
        burst(control.base, "/mysql", 10),
      ]);
      for (const r of [...mPg, ...cPg]) expect(r.body).toEqual({ n: 7 });
      for (const r of [...mMy, ...cMy]) expect(r.body).toEqual({ n: 3 });
    }
    // max 2 and connectionLimit 2 in the fixtures: one pool is at most 2 connections.
    const counts = {
      pg: { m: await pgConnectionCount(pgApp.m), c: await pgConnectionCount(pgApp.c) },
      mysql: { m: await mysqlConnectionCount(users.m.user), c: await mysqlConnectionCount(users.c.user) },
    };
    expect(counts.pg.m).toBeGreaterThanOrEqual(1);
    expect(counts.pg.m).toBeLessThanOrEqual(2);
    expect(counts.mysql.m).toBeGreaterThanOrEqual(1);
    expect(counts.mysql.m).toBeLessThanOrEqual(2);
    // Control: three evaluations, three pools.
    expect(counts.pg.c).toBeGreaterThan(2);
    expect(counts.mysql.c).toBeGreaterThan(2);
  });

  it("the isConnected() middleware: migrated, handler.use(database) sets req.db and req.dbClient, the index is created by onConnect, one client across reloads; unmigrated, it fails on driver 7", async () => {
    for (let round = 0; round < 3; round++) {
      await get(migrated.base, "/__reload");
      const replies = await burst(migrated.base, "/items", 10);
      for (const r of replies) expect(r.body).toEqual({ indexes: ["_id_", "sku_1"], hasClient: true });
    }
    if (mongo.server) {
      const sockets = mongo.server.connections().filter((c) => c.appName === mongoApp.m).length;
      expect(sockets).toBeGreaterThanOrEqual(1);
      expect(sockets).toBeLessThanOrEqual(3); // maxPoolSize 2 + the driver's monitor: one client
    }
    const c = await get(control.base, "/items");
    expect(c.status).toBe(500);
    expect(c.body.message).toMatch(/useNewUrlParser|usenewurlparser|isConnected/);
  });

  it("next-connect v0 onError: the app's handler still answers its errors; a connection lost mid-request gets the package's 503", async () => {
    const app = await get(migrated.base, "/items?fail=app");
    expect(app.status).toBe(418);
    expect(app.body).toEqual({ handledBy: "app" });
    const lost = await get(migrated.base, "/items?fail=lost");
    expect(lost.status).toBe(503);
    expect(lost.body.error).toBe("database_unavailable");
    expect(lost.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("connectToDatabase() after a failed first connect: the unmigrated cache keeps the rejected promise until restart; the migrated helper recovers", async () => {
    // The outage server has been down since the apps started.
    const [m1, c1] = await Promise.all([get(migrated.base, "/mongo"), get(control.base, "/mongo")]);
    expect(m1.status).toBe(500);
    expect(c1.status).toBe(500);
    await outage.start();
    const m2 = await until(() => get(migrated.base, "/mongo"), 200, 10_000);
    expect(m2.body).toEqual({ n: 0, client: "function" });
    // The control, with the database back: still failing, even after a hot reload (the cache is on global).
    for (let i = 0; i < 3; i++) {
      expect((await get(control.base, "/mongo")).status).toBe(500);
      await new Promise((r) => setTimeout(r, 300));
    }
    await get(control.base, "/__reload");
    expect((await get(control.base, "/mongo")).status).toBe(500);
    expect(outage.connections().filter((c) => c.appName === `${mongoApp.c}_outage`)).toHaveLength(0);
  });
});
