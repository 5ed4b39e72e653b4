/**
 * Vercel Fluid compute, with the real `@vercel/functions` package: with
 * Vercel's environment variables set and a request context installed on
 * `globalThis` the way the platform does (an object under
 * `Symbol.for("@vercel/request-context")` whose `get()` returns the current
 * request's `{ waitUntil }`, here from an AsyncLocalStorage), each pool is
 * handed to `attachDatabasePool()` at connect with no code from the app:
 * `waitUntil` receives a promise once a connection is released, and that
 * promise settles once the pool's idle connections have closed (counted on
 * the server). Controls: the same without the variables, and with
 * `attachDatabasePool: false`, attach nothing.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase, type DatabaseHandle } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, type MongoTarget } from "./support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

const CONTEXT = Symbol.for("@vercel/request-context");
const VERCEL_ENV = { VERCEL: "1", VERCEL_ENV: "production", VERCEL_URL: "ndc-test.vercel.app", VERCEL_REGION: "iad1" };
/** The pool's idle timeout, set by the app (user options win over the platform's 5 s). */
const IDLE_MS = 800;

/** What the platform's waitUntil received, in order. */
const received: Array<{ request: number; promise: Promise<unknown>; at: number }> = [];
const requests = new AsyncLocalStorage<{ waitUntil(p: Promise<unknown>): void }>();
let requestCount = 0;

/** One invocation: the route handler runs inside its request context, as on Vercel. */
async function invoke(handler: (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>): Promise<Response> {
  const id = ++requestCount;
  const context = { waitUntil: (promise: Promise<unknown>) => void received.push({ request: id, promise, at: performance.now() }) };
  return requests.run(context, () => handler(new Request("http://ndc-test.vercel.app/api/q"), { params: Promise.resolve({}) }));
}

function setEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

let mongo: MongoTarget;
let mysqlUser: MysqlTestUser;

beforeAll(async () => {
  (globalThis as Record<symbol, unknown>)[CONTEXT] = { get: () => requests.getStore() ?? {} };
  mongo = await mongoTarget();
  mysqlUser = await createMysqlUser("ndc_vercel");
});

afterEach(() => {
  received.length = 0;
});

afterAll(async () => {
  delete (globalThis as Record<symbol, unknown>)[CONTEXT];
  await closeAll();
  await mongo?.close();
  await mysqlUser?.drop();
  await closeAdmin();
  await closeMysqlAdmin();
});

interface Driver {
  name: string;
  make(app: string, options: { attachDatabasePool?: boolean; logger: ReturnType<typeof captureLogger> }): Promise<DatabaseHandle<any, any>>;
  query(db: any): Promise<unknown>;
  /** The pool's connections the server sees (MongoDB: pooled ones, not the monitor's). */
  serverCount(app: string): Promise<number>;
}

const drivers: Driver[] = [
  {
    name: "pg",
    make: async (app, options) =>
      createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, idleTimeoutMillis: IDLE_MS }), { name: app, ...options }),
    query: (db) => db.query("SELECT 1"),
    serverCount: (app) => pgConnectionCount(app),
  },
  {
    name: "mysql2",
    // One user per file: the app name only names the database; the count is the user's.
    make: async (app, options) =>
      createDatabase(mysql2({ uri: mysqlUser.url, idleTimeout: IDLE_MS, maxIdle: 0 }), { name: app, ...options }),
    query: (db) => db.query("SELECT 1"),
    serverCount: () => mysqlConnectionCount(mysqlUser.user),
  },
  {
    name: "mongodb",
    make: async (app, options) =>
      createDatabase(mongodb({ url: mongo.uri, dbName: "ndc_vercel", appName: app, maxIdleTimeMS: IDLE_MS }), { name: app, ...options }),
    query: (db) => db.command({ ping: 1 }),
    serverCount: async (app) => mongo.server!.connections().filter((c) => c.appName === app && c.operations > 0).length,
  },
];

describe.each(drivers)("Vercel Fluid compute: $name", (driver) => {
  it("on Vercel: waitUntil gets a promise after a release, settled once the idle connections have closed", async () => {
    const restore = setEnv(VERCEL_ENV);
    const app = uniqueName(`ndc_vercel_${driver.name}`);
    const log = captureLogger();
    let database: DatabaseHandle<any, any> | undefined;
    try {
      database = await driver.make(app, { logger: log });
      const GET = database.route(async (_req: Request, { db }: { db: unknown }) => {
        await driver.query(db);
        return Response.json({ ok: true });
      });
      const res = await invoke(GET);
      const request = requestCount;
      expect(res.status).toBe(200);
      const released = performance.now();
      // The release is what tells the platform; it comes with the query's answer.
      await waitFor(() => received.length, (n) => n > 0, 2000, 5);
      expect(received.length).toBeGreaterThan(0);
      // Through the request's own context, as the platform keeps one per invocation.
      expect(received.map((r) => r.request)).toEqual(received.map(() => request));
      expect(await driver.serverCount(app)).toBeGreaterThan(0);
      // The last promise handed over is the one the platform waits for.
      const last = received[received.length - 1]!.promise;
      let settledAt = 0;
      await last.then(() => (settledAt = performance.now()));
      const openAtSettle = database.stats().pool?.open;
      const onServer = await waitFor(() => driver.serverCount(app), (n) => n === 0, 3000, 20);
      expect(settledAt - released).toBeGreaterThanOrEqual(IDLE_MS);
      expect(openAtSettle, "the pool's own count when the platform was let go").toBe(0);
      expect(onServer).toBe(0);
      expect(log.lines.join("\n")).toMatch(/running on Vercel \(VERCEL is set\)/);
    } finally {
      await database?.close();
      restore();
    }
  }, 30_000);

  it("attachDatabasePool: false on Vercel, and no Vercel variables: nothing attached", async () => {
    for (const [vars, options] of [[VERCEL_ENV, { attachDatabasePool: false }], [{}, {}]] as const) {
      const restore = setEnv(vars);
      const app = uniqueName(`ndc_vercel_off_${driver.name}`);
      try {
        const database = await driver.make(app, { ...options, logger: captureLogger() });
        const GET = database.route(async (_req: Request, { db }: { db: unknown }) => {
          await driver.query(db);
          return Response.json({ ok: true });
        });
        for (let i = 0; i < 3; i++) expect((await invoke(GET)).status).toBe(200);
        // Vercel's own release listener would call waitUntil synchronously with the release.
        await new Promise((r) => setTimeout(r, 50));
        expect(received).toEqual([]);
        await database.close();
      } finally {
        restore();
      }
    }
  }, 30_000);
});
