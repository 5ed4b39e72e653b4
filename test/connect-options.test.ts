/**
 * onConnect and connectTimeoutMs against a real server behind a TCP proxy:
 * onConnect runs once per pool before any request gets it, a failing
 * onConnect is a failed connect (retried after the cooldown), and a silent
 * server answers 503 within connectTimeoutMs, with the late pool closed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase, DatabaseUnavailableError } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mongoTarget, mongoUrl } from "./support/mongodb-target.js";
import { captureLogger } from "./support/logger.js";
import { pgConnectionCount, postgresUrl, uniqueName, withUrl } from "./support/postgres.js";
import { proxyInFrontOf, type TcpProxy } from "./support/tcp-proxy.js";
import { sleep, waitFor } from "./support/wait.js";

afterAll(() => closeAll());

describe("onConnect", () => {
  it("runs once per pool, before the first caller gets it, however many callers", async () => {
    const app = uniqueName("ndc_onconnect");
    const order: string[] = [];
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), {
      name: app,
      logger: false,
      onConnect: async ({ db, name }) => {
        order.push(`onConnect:${name === app}`);
        await db.query(`CREATE TEMP TABLE IF NOT EXISTS t (x int)`); // real work against the pool
        await sleep(50);
      },
    });
    await Promise.all(Array.from({ length: 20 }, () => database.connect().then(() => order.push("caller"))));
    expect(order[0]).toBe("onConnect:true");
    expect(order.filter((o) => o.startsWith("onConnect"))).toHaveLength(1);
    expect(order.filter((o) => o === "caller")).toHaveLength(20);
  });

  it("a throwing onConnect fails the connect, closes that pool, and is retried after the cooldown", async () => {
    const app = uniqueName("ndc_onconnect_fail");
    let calls = 0;
    const logger = captureLogger();
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), {
      name: app,
      logger,
      retry: { cooldownMs: 1000, jitter: 0 },
      onConnect: () => {
        calls++;
        if (calls === 1) throw new Error("index build failed");
      },
    });
    const first = await database.connect().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(DatabaseUnavailableError);
    // Inside the cooldown (checked right away, and confirmed by retryAt after it): fail fast, no new attempt.
    const second = await database.connect().catch((e: unknown) => e);
    expect(Date.parse(database.stats().retryAt!)).toBeGreaterThan(Date.now());
    expect(second).toBeInstanceOf(DatabaseUnavailableError);
    expect(calls).toBe(1);
    expect(logger.text()).toMatch(/index build failed/);
    // The pool opened for the failed attempt is closed, not leaked.
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0, 3000)).toBe(0);
    // Once the cooldown is over (timers never fire early), the next connect tries again.
    await sleep(Math.max(0, Date.parse(database.stats().retryAt ?? new Date().toISOString()) - Date.now()) + 5);
    await database.connect();
    expect(calls).toBe(2);
    expect(database.stats()).toMatchObject({ connects: 1, failures: 1, state: "connected" });
  });
});

describe("connectTimeoutMs", () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await proxyInFrontOf(await postgresUrl(), 5432);
  });
  afterAll(() => proxy.down());

  it("a silent server answers 503 within the timeout; control: the driver alone waits until its own timeout", async () => {
    proxy.blackhole(true);
    const url = withUrl(await postgresUrl(), { port: proxy.port });
    const database = createDatabase(pg({ connectionString: url, connectionTimeoutMillis: 5000 }), {
      name: uniqueName("ndc_timeout"),
      logger: false,
      connectTimeoutMs: 300,
    });
    const started = Date.now();
    const err = await database.connect().catch((e: unknown) => e);
    const ours = Date.now() - started;
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as Error).message).toMatch(/timed out after 300 ms/); // the package's deadline fired, not the driver's
    // Well under the driver's own 5 s, with room for a loaded 2-core machine.
    expect(ours).toBeLessThan(300 + 3000);

    // Control: the bare driver with the same settings waits for its own 5 s timeout.
    const { default: pgDriver } = await import("pg");
    const bare = new pgDriver.Pool({ connectionString: url, connectionTimeoutMillis: 1500 });
    const bareStart = Date.now();
    await bare.query("SELECT 1").catch(() => {});
    expect(Date.now() - bareStart).toBeGreaterThanOrEqual(1400);
    await bare.end();
    proxy.blackhole(false);
  });
});

describe("mongodb timeouts", () => {
  it("end inside the package's connectTimeoutMs (80% of it) instead of the driver's 30 s, and bound the wait queue by acquireTimeoutMs, unless the options or the URL set them", async () => {
    const target = await mongoTarget();
    // Loaded first: a driver that took more than a tenth of connectTimeoutMs to load gets less (see src/adapters/mongodb.ts).
    const { MongoClient } = await import("mongodb");
    try {
      const url = (query: Record<string, number> = {}) => mongoUrl(target.uri, "ndc_timeouts", query);
      const timeoutsOf = async (adapterUrl: string, extra: Record<string, number> = {}) => {
        const database = createDatabase(mongodb({ url: adapterUrl, ...extra }), { name: uniqueName("mongo_timeouts"), logger: false });
        const { client } = await database.connect();
        const { connectTimeoutMS, serverSelectionTimeoutMS, waitQueueTimeoutMS } = client.options;
        await database.close();
        return { connectTimeoutMS, serverSelectionTimeoutMS, waitQueueTimeoutMS };
      };
      // connectTimeoutMs 10 s and acquireTimeoutMs 10 s by default.
      expect(await timeoutsOf(url())).toEqual({ connectTimeoutMS: 8000, serverSelectionTimeoutMS: 8000, waitQueueTimeoutMS: 10_000 });
      expect(await timeoutsOf(url(), { serverSelectionTimeoutMS: 1234 })).toEqual({ connectTimeoutMS: 8000, serverSelectionTimeoutMS: 1234, waitQueueTimeoutMS: 10_000 });
      // URL keys are case-insensitive for the driver, and must win over our default.
      expect(await timeoutsOf(url({ connecttimeoutms: 2345 }))).toEqual({ connectTimeoutMS: 2345, serverSelectionTimeoutMS: 8000, waitQueueTimeoutMS: 10_000 });
      // Control: the driver alone keeps its 30 s.
      const bare = new MongoClient(url());
      expect([bare.options.connectTimeoutMS, bare.options.serverSelectionTimeoutMS]).toEqual([30_000, 30_000]);
    } finally {
      await target.close();
    }
  });
});
