/**
 * Contract 6: a config change in dev (new URL, new pool size) closes the old
 * pool and uses a new one; an unchanged config reuses the existing pool.
 *
 * A "dev edit" here is what Next.js does on save: the module that calls
 * createDatabase() (test/fixtures/lib-database*.ts) is evaluated again, now
 * with other settings. The servers show which pool is live: pg_stat_activity
 * by application_name, MariaDB connection ids for a test user, the wire
 * server's per-socket appName. The control is a hand-written
 * `globalThis.__pool ??= new Pool(config)`, which keeps the old config.
 */
import type { Pool as PgPool } from "pg";
import type { Pool as MysqlPool } from "mysql2/promise";
import type { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAll } from "../index.js";
import { createMysqlUser, mysqlAdminQuery, type MysqlTestUser } from "./support/mysql.js";
import type { MongoWireServer } from "./support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { samplePeak } from "./support/peak.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

const ENV = [
  "NDC_FIXTURE_NAME",
  "NDC_FIXTURE_PG_URL", "NDC_FIXTURE_PG_APP", "NDC_FIXTURE_PG_MAX",
  "NDC_FIXTURE_MYSQL_URL", "NDC_FIXTURE_MYSQL_LIMIT",
  "NDC_FIXTURE_MONGO_URL", "NDC_FIXTURE_MONGO_APP",
] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
afterAll(async () => {
  await closeAll();
});

/** A dev hot reload of lib/database.ts (and the package source under it). */
async function reload<T>(load: () => Promise<T>): Promise<T> {
  vi.resetModules();
  return load();
}
const loadPg = () => import("./fixtures/lib-database.js");
const loadMysql = () => import("./fixtures/lib-database-mysql.js");
const loadMongo = () => import("./fixtures/lib-database-mongo.js");

describe("pg", () => {
  it("new application_name and max: the old pool's connections go to 0, the new pool is used; unchanged reuses", async () => {
    const oldApp = uniqueName("ndc_cfg_old");
    const newApp = uniqueName("ndc_cfg_new");
    process.env.NDC_FIXTURE_NAME = uniqueName("cfg_pg");
    process.env.NDC_FIXTURE_PG_URL = await postgresUrl();
    process.env.NDC_FIXTURE_PG_APP = oldApp;
    process.env.NDC_FIXTURE_PG_MAX = "3";

    const first = await reload(loadPg);
    const { client: oldPool } = await first.database.connect();
    await Promise.all([1, 2, 3].map(() => oldPool.query("SELECT pg_sleep(0.05)")));
    const oldCount = await pgConnectionCount(oldApp);
    expect(oldCount).toBeGreaterThan(0);
    expect(first.database.stats().connects).toBe(1);

    // Saved without a config change: the same pool, no connect, same server-side connections.
    const same = await reload(loadPg);
    expect(same.database).not.toBe(first.database); // a fresh evaluation
    expect((await same.database.connect()).client).toBe(oldPool);
    await same.database.connect().then(({ db }) => db.query("SELECT 1"));
    expect(same.database.stats().connects).toBe(1);
    expect(await pgConnectionCount(oldApp)).toBe(oldCount);

    // Saved with a new config.
    process.env.NDC_FIXTURE_PG_APP = newApp;
    process.env.NDC_FIXTURE_PG_MAX = "2";
    const changed = await reload(loadPg);
    const { client: newPool } = await changed.database.connect();
    expect(newPool).not.toBe(oldPool);
    expect((newPool as PgPool).options.max).toBe(2);
    expect(changed.database.stats().connects).toBe(2); // one more connect, not more
    expect(await waitFor(() => pgConnectionCount(oldApp), (n) => n === 0, 3000)).toBe(0);
    // The new pool answers, with the new size limit as the server sees it.
    const sampler = samplePeak(() => pgConnectionCount(newApp));
    await Promise.all(Array.from({ length: 6 }, () => newPool.query("SELECT pg_sleep(0.05)")));
    const { peak } = await sampler.stop();
    console.info(`[config-change pg] old app: ${oldCount} → 0 connections; new app peak ${peak} (max 2)`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    expect(await pgConnectionCount(oldApp)).toBe(0);

    // A later unchanged reload keeps the new pool.
    const again = await reload(loadPg);
    expect((await again.database.connect()).client).toBe(newPool);
    expect(again.database.stats().connects).toBe(2);
    await again.database.close();
    expect(await waitFor(() => pgConnectionCount(newApp), (n) => n === 0, 3000)).toBe(0);
  });

  it("control: `globalThis.__pool ??= new Pool(config)` keeps the OLD config after the change", async () => {
    const oldApp = uniqueName("ndc_cfg_ctl_old");
    const newApp = uniqueName("ndc_cfg_ctl_new");
    process.env.NDC_FIXTURE_PG_URL = await postgresUrl();
    process.env.NDC_FIXTURE_PG_APP = oldApp;
    const holder = globalThis as { __ndcGlobalPool?: PgPool };
    delete holder.__ndcGlobalPool;
    try {
      const before = await reload(() => import("./fixtures/global-pool.js"));
      await before.pool.query("SELECT 1");
      process.env.NDC_FIXTURE_PG_APP = newApp;
      const after = await reload(() => import("./fixtures/global-pool.js"));
      await after.pool.query("SELECT 1");
      const [oldCount, newCount] = [await pgConnectionCount(oldApp), await pgConnectionCount(newApp)];
      console.info(`[config-change pg] control: old application_name ${oldCount} connection(s), new ${newCount}`);
      expect(after.pool).toBe(before.pool);
      expect(oldCount).toBeGreaterThan(0);
      expect(newCount).toBe(0);
    } finally {
      await (holder.__ndcGlobalPool as PgPool | undefined)?.end();
      delete holder.__ndcGlobalPool;
    }
    expect(await waitFor(() => pgConnectionCount(oldApp), (n) => n === 0, 3000)).toBe(0);
  });
});

describe("mysql2", () => {
  let user: MysqlTestUser;
  beforeAll(async () => {
    user = await createMysqlUser("ndc_cfg");
  });
  afterAll(async () => {
    await closeAll();
    await user?.drop();
  });

  async function serverIds(): Promise<number[]> {
    const rows = (await mysqlAdminQuery("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user.user])) as Array<{ id: number }>;
    return rows.map((r) => Number(r.id));
  }
  /** n queries at once; returns the server connection ids they ran on. */
  async function idsUsed(pool: MysqlPool, n: number): Promise<Set<number>> {
    const results = await Promise.all(
      Array.from({ length: n }, async () => {
        const [rows] = await pool.query("SELECT CONNECTION_ID() AS id, SLEEP(0.05) AS s");
        return Number((rows as Array<{ id: number }>)[0]!.id);
      }),
    );
    return new Set(results);
  }

  it("new connectionLimit: the old pool's server connections end, the new pool's limit holds; unchanged reuses", async () => {
    process.env.NDC_FIXTURE_NAME = uniqueName("cfg_mysql");
    process.env.NDC_FIXTURE_MYSQL_URL = user.url;
    process.env.NDC_FIXTURE_MYSQL_LIMIT = "3";

    const first = await reload(loadMysql);
    const { client: oldPool } = await first.database.connect();
    const oldIds = await idsUsed(oldPool, 6);
    expect(oldIds.size).toBeGreaterThan(1);
    expect(oldIds.size).toBeLessThanOrEqual(3);
    expect(new Set(await serverIds())).toEqual(oldIds);

    const same = await reload(loadMysql);
    expect((await same.database.connect()).client).toBe(oldPool);
    expect(same.database.stats().connects).toBe(1);
    expect(new Set(await serverIds())).toEqual(oldIds);

    process.env.NDC_FIXTURE_MYSQL_LIMIT = "2";
    const changed = await reload(loadMysql);
    const { client: newPool } = await changed.database.connect();
    expect(newPool).not.toBe(oldPool);
    expect(changed.database.stats().connects).toBe(2);
    const stillOld = await waitFor(async () => (await serverIds()).filter((id) => oldIds.has(id)), (ids) => ids.length === 0, 3000);
    expect(stillOld).toEqual([]);

    const sampler = samplePeak(async () => (await serverIds()).length);
    const newIds = await idsUsed(newPool, 6);
    const { peak } = await sampler.stop();
    console.info(`[config-change mysql2] old ids ${[...oldIds].join(",")} → gone; new ids ${[...newIds].join(",")}, server peak ${peak} (limit 2)`);
    expect([...newIds].some((id) => oldIds.has(id))).toBe(false);
    expect(newIds.size).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    await changed.database.close();
  });
});

describe.skipIf(needsWireServer("connection table by appName (config-change: the old appName's sockets go to 0)"))("mongodb (wire server)", () => {
  let wire: MongoWireServer;
  beforeAll(async () => {
    wire = (await wireServerTarget()).server;
  });
  afterAll(async () => {
    await closeAll();
    await wire?.stop();
  });

  const byApp = (app: string) => wire.connections().filter((c) => c.appName === app).length;

  it("new appName: the server's sockets for the old appName go to 0, the new appName's appear; unchanged reuses", async () => {
    const oldApp = uniqueName("ndc_cfg_mongo_old");
    const newApp = uniqueName("ndc_cfg_mongo_new");
    process.env.NDC_FIXTURE_NAME = uniqueName("cfg_mongo");
    process.env.NDC_FIXTURE_MONGO_URL = wire.uri;
    process.env.NDC_FIXTURE_MONGO_APP = oldApp;

    const first = await reload(loadMongo);
    const { client: oldClient, db } = await first.database.connect();
    await db.command({ ping: 1 });
    const oldSockets = byApp(oldApp);
    expect(oldSockets).toBeGreaterThan(0);
    expect(byApp(newApp)).toBe(0);

    const same = await reload(loadMongo);
    expect((await same.database.connect()).client).toBe(oldClient);
    expect(same.database.stats().connects).toBe(1);
    const acceptedBefore = wire.totalAccepted;

    process.env.NDC_FIXTURE_MONGO_APP = newApp;
    const changed = await reload(loadMongo);
    const { client: newClient, db: newDb } = await changed.database.connect();
    await newDb.command({ ping: 1 });
    expect(newClient).not.toBe(oldClient);
    expect((newClient as MongoClient).options.appName).toBe(newApp);
    expect(changed.database.stats().connects).toBe(2);
    expect(await waitFor(() => byApp(oldApp), (n) => n === 0, 3000)).toBe(0);
    expect(byApp(newApp)).toBeGreaterThan(0);
    expect(wire.connections().filter((c) => c.appName === newApp && c.operations > 0).length).toBeGreaterThan(0);
    console.info(`[config-change mongodb] sockets: old appName ${oldSockets} → 0, new appName ${byApp(newApp)}; accepted ${acceptedBefore} → ${wire.totalAccepted}`);
    await changed.database.close();
    expect(await waitFor(() => wire.connectionCount, (n) => n === 0, 3000)).toBe(0);
  });
});
