/**
 * Contract 1: one connect per process per database name, whatever the number
 * of concurrent first requests (single flight), module re-evaluations (hot
 * reload) or copies of the package (ESM and CJS builds, Next.js bundles).
 *
 * Every count is the server's (pg_stat_activity by application_name, the
 * MariaDB processlist by user, the wire server's own sockets). Every
 * guarantee is shown next to its control: the naive pattern, run here and
 * shown to produce the bad outcome.
 */
import { createRouter } from "next-connect";
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import pgDriver from "pg";
import type { Pool as PgPool } from "pg";
import type { Pool as MysqlPool } from "mysql2/promise";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAll, createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { buildPackage, type Build } from "./support/build.js";
import { burst, serveNode, type TestServer } from "./support/http.js";
import { createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import type { MongoWireServer } from "./support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { limitedBurst, samplePeak } from "./support/peak.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

const BURST = 200;
/**
 * The controls open a connection per request against servers other test
 * files share (PostgreSQL max_connections is 100). At most this many control
 * requests are in flight, so a control shows the churn without exhausting
 * the server for everyone else; ours gets all BURST requests at once.
 */
const CONTROL_IN_FLIGHT = 40;

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await closeAll();
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

/** A Pages Router API route with next-connect v1: `createRouter().use(database).get(handler)`. */
async function serveRouter(database: any, get: (req: any, res: ServerResponse) => Promise<void>): Promise<TestServer> {
  const router = createRouter<IncomingMessage, ServerResponse>().use(database).get(get);
  const server = await serveNode((req, res) => void router.run(req, res).catch((e) => sendJson(res, 500, { error: String(e) })));
  servers.push(server);
  return server;
}

async function serveHandler(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<TestServer> {
  const server = await serveNode((req, res) => void handler(req, res).catch((e) => sendJson(res, 500, { error: String(e) })));
  servers.push(server);
  return server;
}

describe("200 concurrent cold requests open one pool", () => {
  it("pg: server-side peak stays within the pool max, connects === 1; control (a Client per request) exceeds it", async () => {
    const url = await postgresUrl();
    const max = 4;
    const app = uniqueName("ndc_single_pg");
    const database = createDatabase(pg({ connectionString: url, max, application_name: app }), { name: uniqueName("single_pg"), logger: false });
    // The query holds its connection briefly, so the burst fills the pool.
    const server = await serveRouter(database, async (req, res) => {
      const { rows } = await (req.db as PgPool).query("SELECT 1 AS one FROM pg_sleep(0.01)");
      sendJson(res, 200, rows[0]);
    });

    expect(await pgConnectionCount(app)).toBe(0); // cold
    const sampler = samplePeak(() => pgConnectionCount(app));
    const results = await burst(`${server.url}/`, BURST);
    const ours = await sampler.stop();
    expect(results.map((r) => r.status)).toEqual(Array(BURST).fill(200));
    expect(ours.peak).toBeGreaterThan(0); // the sampler saw the pool: this check can fail
    expect(ours.peak).toBeLessThanOrEqual(max);
    expect(await pgConnectionCount(app)).toBeLessThanOrEqual(max);
    expect(database.stats().connects).toBe(1);

    // Control: a new pg.Client per request (connect, query, end).
    const controlApp = uniqueName("ndc_single_pg_ctl");
    const control = await serveHandler(async (_req, res) => {
      const client = new pgDriver.Client({ connectionString: url, application_name: controlApp });
      client.on("error", () => {});
      await client.connect();
      try {
        const { rows } = await client.query("SELECT 1 AS one FROM pg_sleep(0.01)");
        sendJson(res, 200, rows[0]);
      } finally {
        await client.end();
      }
    });
    const controlSampler = samplePeak(() => pgConnectionCount(controlApp));
    const controlStatuses = await limitedBurst(`${control.url}/`, BURST, CONTROL_IN_FLIGHT);
    const churn = await controlSampler.stop();
    expect(controlStatuses.filter((s) => s === 200)).toHaveLength(BURST);
    console.info(`[single-connect pg] server-side peak: ours ${ours.peak} (max ${max}), control ${churn.peak}`);
    expect(churn.peak).toBeGreaterThan(max);
    await waitFor(() => pgConnectionCount(controlApp), (n) => n === 0);
  });

  describe("mysql2", () => {
    let user: MysqlTestUser;
    let controlUser: MysqlTestUser;
    beforeAll(async () => {
      user = await createMysqlUser("ndc_single");
      controlUser = await createMysqlUser("ndc_single_ctl");
    });
    afterAll(async () => {
      await closeAll();
      await user?.drop();
      await controlUser?.drop();
    });

    it("server-side peak stays within connectionLimit, connects === 1; control (createConnection per request) exceeds it", async () => {
      const limit = 4;
      const database = createDatabase(mysql2({ uri: user.url, connectionLimit: limit }), { name: uniqueName("single_mysql"), logger: false });
      const server = await serveRouter(database, async (req, res) => {
        const [rows] = await (req.db as MysqlPool).query("SELECT SLEEP(0.01) AS s");
        sendJson(res, 200, rows);
      });

      expect(await mysqlConnectionCount(user.user)).toBe(0);
      const sampler = samplePeak(() => mysqlConnectionCount(user.user));
      const results = await burst(`${server.url}/`, BURST);
      const ours = await sampler.stop();
      expect(results.map((r) => r.status)).toEqual(Array(BURST).fill(200));
      expect(ours.peak).toBeGreaterThan(0);
      expect(ours.peak).toBeLessThanOrEqual(limit);
      expect(database.stats().connects).toBe(1);

      const control = await serveHandler(async (_req, res) => {
        const connection = await mysql.createConnection({ uri: controlUser.url });
        connection.on("error", () => {});
        try {
          const [rows] = await connection.query("SELECT SLEEP(0.01) AS s");
          sendJson(res, 200, rows);
        } finally {
          await connection.end();
        }
      });
      const controlSampler = samplePeak(() => mysqlConnectionCount(controlUser.user));
      const statuses = await limitedBurst(`${control.url}/`, BURST, CONTROL_IN_FLIGHT);
      const churn = await controlSampler.stop();
      expect(statuses.filter((s) => s === 200)).toHaveLength(BURST);
      console.info(`[single-connect mysql2] server-side peak: ours ${ours.peak} (limit ${limit}), control ${churn.peak}`);
      expect(churn.peak).toBeGreaterThan(limit);
    });
  });

  describe.skipIf(needsWireServer("connection count (single-connect: sockets of one client vs a client per request)"))("mongodb (wire server)", () => {
    let ourServer: MongoWireServer;
    let controlServer: MongoWireServer;
    beforeAll(async () => {
      ourServer = (await wireServerTarget()).server;
      controlServer = (await wireServerTarget()).server;
    });
    afterAll(async () => {
      await closeAll();
      await ourServer?.stop();
      await controlServer?.stop();
    });

    it("200 concurrent database.connect() + ping: one client; control (a MongoClient per request) opens hundreds of sockets", async () => {
      const maxPoolSize = 5;
      const database = createDatabase(
        mongodb({ url: ourServer.uri, dbName: "ndc_single", maxPoolSize, serverSelectionTimeoutMS: 2000 }),
        { name: uniqueName("single_mongo"), logger: false },
      );
      expect(ourServer.totalAccepted).toBe(0);
      let peak = 0;
      const results = await Promise.all(
        Array.from({ length: BURST }, async () => {
          const { db, client } = await database.connect();
          await db.command({ ping: 1 });
          peak = Math.max(peak, ourServer.connectionCount);
          return client;
        }),
      );
      expect(new Set(results).size).toBe(1);
      expect(database.stats().connects).toBe(1);
      // The pool plus the driver's monitoring socket(s) of ONE client.
      const oursAccepted = ourServer.totalAccepted;
      expect(oursAccepted).toBeGreaterThan(0);
      expect(oursAccepted).toBeLessThanOrEqual(maxPoolSize + 2);
      const monitoring = ourServer.connections().filter((c) => c.operations === 0).length;
      expect(monitoring).toBeLessThanOrEqual(2);

      let controlPeak = 0;
      const sampler = setInterval(() => (controlPeak = Math.max(controlPeak, controlServer.connectionCount)), 2);
      try {
        await Promise.all(
          Array.from({ length: BURST }, async () => {
            const client = new MongoClient(controlServer.uri, { serverSelectionTimeoutMS: 5000 });
            try {
              await client.connect();
              await client.db("ndc_single").command({ ping: 1 });
              controlPeak = Math.max(controlPeak, controlServer.connectionCount);
            } finally {
              await client.close();
            }
          }),
        );
      } finally {
        clearInterval(sampler);
      }
      console.info(
        `[single-connect mongodb] sockets accepted: ours ${oursAccepted} (peak ${peak}), control ${controlServer.totalAccepted} (peak ${controlPeak})`,
      );
      expect(controlServer.totalAccepted).toBeGreaterThanOrEqual(BURST);
      expect(controlPeak).toBeGreaterThan(maxPoolSize + 2);
    });
  });
});

describe("hot reload: 50 module re-evaluations", () => {
  const RELOADS = 50;
  const env = ["NDC_FIXTURE_PG_URL", "NDC_FIXTURE_PG_APP", "NDC_FIXTURE_PG_MAX", "NDC_FIXTURE_NAME"] as const;
  const saved = Object.fromEntries(env.map((k) => [k, process.env[k]]));
  const controlPools: PgPool[] = [];
  afterEach(() => {
    for (const k of env) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  afterAll(async () => {
    await Promise.all(controlPools.splice(0).map((p) => p.end().catch(() => {})));
    await closeAll();
  });

  it("the re-evaluated lib/database.ts reuses one pool: same client, constant server-side count, connects === 1", async () => {
    const app = uniqueName("ndc_reload");
    process.env.NDC_FIXTURE_PG_URL = await postgresUrl();
    process.env.NDC_FIXTURE_PG_APP = app;
    process.env.NDC_FIXTURE_PG_MAX = "3";
    process.env.NDC_FIXTURE_NAME = uniqueName("reload");

    let firstClient: unknown;
    let firstEvaluation = 0;
    const counts: number[] = [];
    for (let i = 0; i < RELOADS; i++) {
      // A hot reload: the module graph (fixture and package source) is evaluated again.
      vi.resetModules();
      const mod: typeof import("./fixtures/lib-database.js") = await import("./fixtures/lib-database.js");
      if (i === 0) firstEvaluation = mod.evaluation;
      else expect(mod.evaluation).toBe(firstEvaluation + i); // really a fresh evaluation
      const { client, db } = await mod.database.connect();
      await db.query("SELECT 1");
      if (i === 0) firstClient = client;
      expect(client).toBe(firstClient);
      expect(mod.database.stats().connects).toBe(1);
      counts.push(await pgConnectionCount(app));
    }
    console.info(`[single-connect reload] server-side count over ${RELOADS} reloads: ${[...new Set(counts)].join(",")}`);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(counts.at(-1)).toBe(counts[0]); // not growing
  });

  it("control: a module-scope `new Pool()` re-evaluated 50 times leaves a pool (and a connection) per evaluation", async () => {
    const app = uniqueName("ndc_reload_ctl");
    process.env.NDC_FIXTURE_PG_URL = await postgresUrl();
    process.env.NDC_FIXTURE_PG_APP = app;
    for (let i = 0; i < RELOADS; i++) {
      vi.resetModules();
      const mod: typeof import("./fixtures/module-scope-pool.js") = await import("./fixtures/module-scope-pool.js");
      controlPools.push(mod.pool);
      await mod.pool.query("SELECT 1");
    }
    const count = await pgConnectionCount(app);
    console.info(`[single-connect reload] control: ${new Set(controlPools).size} pools, ${count} server-side connections`);
    expect(new Set(controlPools).size).toBe(RELOADS);
    expect(count).toBeGreaterThan(10);
    await Promise.all(controlPools.splice(0).map((p) => p.end()));
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0)).toBe(0);
  });
});

describe("bundles: the ESM and CJS builds in one process", () => {
  let build: Build | undefined;
  const nodeEnv = process.env.NODE_ENV;
  const controlPools: PgPool[] = [];
  beforeAll(async () => {
    build = await buildPackage();
  });
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
    delete process.env.NDC_FIXTURE_PG_URL;
    delete process.env.NDC_FIXTURE_PG_APP;
  });
  afterAll(async () => {
    await Promise.all(controlPools.splice(0).map((p) => p.end().catch(() => {})));
    delete (globalThis as { __ndcNextStylePool?: unknown }).__ndcNextStylePool;
    await closeAll();
    await build?.remove();
  });

  it("the same name from dist/index.js, dist/index.cjs and the source: one pool on the server, one client object", async () => {
    const url = await postgresUrl();
    const app = uniqueName("ndc_bundles");
    const name = uniqueName("bundles");
    const config = { connectionString: url, max: 3, application_name: app };

    // The ESM build through import(), the CJS build through Node's require().
    const esm = await import(/* @vite-ignore */ build!.esm("index"));
    const esmPg = await import(/* @vite-ignore */ build!.esm("pg"));
    const require = createRequire(import.meta.url);
    const cjs = require(build!.cjs("index"));
    const cjsPg = require(build!.cjs("pg"));
    expect(esm.createDatabase).not.toBe(cjs.createDatabase); // really two copies of the package

    const fromEsm = esm.createDatabase(esmPg.pg(config), { name, logger: false });
    const fromCjs = cjs.createDatabase(cjsPg.pg(config), { name, logger: false });
    const fromSource = createDatabase(pg(config), { name, logger: false });

    const [a, b, c] = await Promise.all([fromEsm.connect(), fromCjs.connect(), fromSource.connect()]);
    expect(b.client).toBe(a.client);
    expect(c.client).toBe(a.client);
    await Promise.all([a.db.query("SELECT 1"), b.db.query("SELECT 1"), c.db.query("SELECT 1")]);
    // Three queries at once on one pool of max 3: at most 3 connections, all of one pool.
    const count = await pgConnectionCount(app);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(3);
    // Taking turns (as requests to different bundles do) changes nothing.
    for (const copy of [fromCjs, fromEsm, fromSource, fromCjs, fromEsm]) {
      expect((await copy.connect()).client).toBe(a.client);
    }
    expect(fromEsm.stats().connects).toBe(1);
    expect(fromCjs.stats().connects).toBe(1);
    expect(await pgConnectionCount(app)).toBe(count);

    await fromCjs.close();
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0)).toBe(0);
    expect(fromEsm.stats().pool).toBeNull(); // closed through one copy, closed for all
  });

  it("control: a NODE_ENV-guarded singleton in production gives one pool per bundle", async () => {
    const app = uniqueName("ndc_bundles_ctl");
    process.env.NDC_FIXTURE_PG_URL = await postgresUrl();
    process.env.NDC_FIXTURE_PG_APP = app;
    process.env.NODE_ENV = "production";
    // Two bundles of `next start` (Pages Router, App Router) each evaluate their own copy of lib/db.ts.
    vi.resetModules();
    const pages: typeof import("./fixtures/next-style-singleton.js") = await import("./fixtures/next-style-singleton.js");
    vi.resetModules();
    const appRouter: typeof import("./fixtures/next-style-singleton.js") = await import("./fixtures/next-style-singleton.js");
    controlPools.push(pages.pool, appRouter.pool);
    await Promise.all([pages.pool.query("SELECT 1"), appRouter.pool.query("SELECT 1")]);
    const count = await pgConnectionCount(app);
    console.info(`[single-connect bundles] control: ${count} server-side connections from 2 bundles`);
    expect(appRouter.pool).not.toBe(pages.pool);
    expect(count).toBe(2);
    await Promise.all(controlPools.splice(0).map((p) => p.end()));
  });
});
