/**
 * stats() and health() against the server's own view: pool figures match
 * pg_stat_activity / the MariaDB processlist / the wire server's sockets, and
 * health() answers within its timeout whether the database is up, down or
 * silent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { needsWireServer, wireServerTarget, type WireServerTarget } from "./support/mongodb-target.js";
import { createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import { pgConnectionCount, postgresUrl, uniqueName, withUrl } from "./support/postgres.js";
import { proxyInFrontOf, type TcpProxy } from "./support/tcp-proxy.js";
import { waitFor } from "./support/wait.js";

afterAll(() => closeAll());

describe("stats() matches the server", () => {
  it("pg: open / inUse / waiting while 6 queries share a pool of 3", async () => {
    const app = uniqueName("ndc_stats");
    const database = createDatabase(pg({ connectionString: await postgresUrl(), max: 3, application_name: app }), { name: app, logger: false });
    expect(database.stats()).toMatchObject({ state: "idle", connects: 0, pool: null });
    const { db } = await database.connect();
    const running = Array.from({ length: 6 }, () => db.query("SELECT pg_sleep(0.4)"));
    try {
      const during = await waitFor(() => database.stats(), (s) => s.pool?.waiting === 3, 2000, 5);
      expect(during.pool).toMatchObject({ open: 3, inUse: 3, idle: 0, waiting: 3, max: 3 });
      expect(await pgConnectionCount(app)).toBe(3);
    } finally {
      await Promise.allSettled(running);
    }
    const after = database.stats();
    expect(after.pool).toMatchObject({ open: 3, inUse: 0, idle: 3, waiting: 0 });
    expect(after).toMatchObject({ state: "connected", connects: 1, failures: 0, lastError: null });
    expect(after.connectedAt).not.toBeNull();
  });

  it("mysql2: open / idle / waiting", async () => {
    const user: MysqlTestUser = await createMysqlUser("ndc_stats");
    try {
      const database = createDatabase(mysql2({ uri: user.url, connectionLimit: 2 }), { name: uniqueName("my_stats"), logger: false });
      const { db } = await database.connect();
      const running = Array.from({ length: 5 }, () => db.query("SELECT SLEEP(0.5)"));
      try {
        const during = await waitFor(() => database.stats(), (s) => s.pool?.waiting === 3, 2000, 5);
        expect(during.pool).toMatchObject({ open: 2, inUse: 2, idle: 0, waiting: 3, max: 2 });
        // The processlist shows a connection under its user once its handshake is done.
        expect(await waitFor(() => mysqlConnectionCount(user.user), (n) => n === 2, 1000)).toBe(2);
      } finally {
        await Promise.allSettled(running);
      }
      expect(database.stats().pool).toMatchObject({ open: 2, idle: 2, inUse: 0, waiting: 0 });
      await database.close();
    } finally {
      await user.drop();
    }
  });

  // Queries are held in flight by delaying the server's replies, and the monitor is told apart in its connection table.
  describe.skipIf(needsWireServer("setReplyDelay() and connection table (stats-health: pool figures)"))("mongodb", () => {
    let target: WireServerTarget;
    beforeAll(async () => {
      target = await wireServerTarget();
    });
    afterAll(() => target.close());

    it("pool figures come from the driver's pool events; the monitor is not counted", async () => {
      const database = createDatabase(mongodb({ url: target.uri, dbName: uniqueName("stats"), maxPoolSize: 3 }), { name: uniqueName("mongo_stats"), logger: false });
      const { db } = await database.connect();
      target.server.setReplyDelay(150);
      const running = Array.from({ length: 7 }, () => db.collection("x").findOne({}));
      try {
        // While all three connections are checked out, the rest of the seven wait
        // (one may already be done: the first query needs no new connection).
        const during = await waitFor(() => database.stats(), (s) => s.pool?.inUse === 3, 2000, 2);
        expect(during.pool).toMatchObject({ open: 3, inUse: 3, idle: 0, max: 3 });
        expect(during.pool!.waiting).toBeGreaterThanOrEqual(3);
        expect(during.pool!.waiting).toBeLessThanOrEqual(4);
        // The server also sees the driver's monitoring socket, which is not a pool connection.
        expect(target.server.connectionCount).toBe(4);
      } finally {
        await Promise.allSettled(running);
      }
      // Once replies are out, three sockets ran queries: the pool; the fourth only said hello.
      expect(target.server.connections().filter((c) => c.operations > 0)).toHaveLength(3);
      target.server.setReplyDelay(0);
      expect(database.stats().pool).toMatchObject({ open: 3, inUse: 0, idle: 3, waiting: 0 });
      await database.close();
      expect(database.stats().pool).toBeNull();
    });
  });
});

describe("health()", () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await proxyInFrontOf(await postgresUrl(), 5432);
  });
  afterAll(() => proxy.down());

  it("up: ok with a latency; down: not ok, with a redacted reason; silent: answers within the timeout", async () => {
    const logger = captureLogger();
    const app = uniqueName("ndc_health");
    const database = createDatabase(
      pg({ connectionString: withUrl(await postgresUrl(), { port: proxy.port, params: { application_name: app } }), max: 2 }),
      { name: app, logger, retry: { cooldownMs: 100 } },
    );
    const up = await database.health();
    expect(up).toMatchObject({ ok: true, kind: "pg", name: app, error: null });
    expect(up.latencyMs).toBeGreaterThan(0);
    expect(up.stats.connects).toBe(1);

    await proxy.down();
    const down = await database.health({ timeoutMs: 3000 });
    expect(down.ok).toBe(false);
    expect(down.latencyMs).toBeNull();
    expect(down.error?.message).toMatch(/ECONNRESET|ECONNREFUSED|refused/); // the reason (the pooled socket reset, or a new one refused), not just any text

    await proxy.up();
    proxy.blackhole(true);
    proxy.cutAll();
    const started = Date.now();
    const silent = await database.health({ timeoutMs: 500 });
    const took = Date.now() - started;
    expect(silent.ok).toBe(false);
    expect(silent.error?.message).toMatch(/timed out|unavailable/);
    // Its 500 ms plus 5 s for a loaded 2-core machine; without the bound it would wait for the pool's
    // connect timeout (acquireTimeoutMs, 10 s) or, for a query on a silent socket, forever.
    expect(took).toBeLessThan(500 + 5000);

    proxy.blackhole(false);
    const recovered = await waitFor(() => database.health({ timeoutMs: 2000 }), (h) => h.ok, 8000, 150);
    expect(recovered.ok).toBe(true);
  });

  it("health() of a database with a bad configuration reports it without throwing", async () => {
    const database = createDatabase(pg({ connectionString: undefined }), { name: uniqueName("health_cfg"), logger: false });
    const report = await database.health();
    expect(report).toMatchObject({ ok: false, kind: "pg" });
    expect(report.error?.message).toMatch(/connectionString/);
  });
});
