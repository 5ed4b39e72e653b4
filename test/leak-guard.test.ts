/**
 * Contract 7, nothing leaks. Handlers that check out a connection through
 * `req.db` and never release it, under next-connect v1 (createRouter),
 * `database.api()` and `database.route()` over real HTTP: 100 requests on a
 * pool of 3 all succeed, the server never sees more than 3 connections, each
 * leak is counted and logged with its route (no query string).
 *
 * Control: the same handlers with `leakGuard: false` exhaust the pool; the
 * 4th request hangs. Also `close()`: ends every connection (server-side count
 * 0), is idempotent, and the next use connects again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { serveRouters, timedGet } from "./support/routes.js";
import { sleep, waitFor } from "./support/wait.js";

interface SqlTarget {
  label: "pg" | "mysql2";
  /** pg: connectionTimeoutMillis 0 = wait forever for a pooled connection, like mysql2's default queue. */
  adapter(): any;
  serverCount(): Promise<number>;
  /** Checks out a connection, uses it, never releases it; returns it. */
  leak(db: any): Promise<{ release(): void }>;
  /** Checks out, uses, releases in finally: the right way. */
  proper(db: any): Promise<unknown>;
  query(db: any): Promise<unknown>;
  teardown(): Promise<void>;
}

async function pgTarget(): Promise<SqlTarget> {
  const url = await postgresUrl();
  const app = uniqueName("ndc_leak_pg");
  return {
    label: "pg",
    adapter: () => pg({ connectionString: url, application_name: app, max: 3, connectionTimeoutMillis: 0 }),
    serverCount: () => pgConnectionCount(app),
    async leak(db) {
      const client = await db.connect();
      await client.query("SELECT 1");
      return client;
    },
    async proper(db) {
      const client = await db.connect();
      try {
        return (await client.query("SELECT 1 AS one")).rows;
      } finally {
        client.release();
      }
    },
    query: (db) => db.query("SELECT 1"),
    teardown: async () => {},
  };
}

async function mysqlTarget(): Promise<SqlTarget> {
  const user: MysqlTestUser = await createMysqlUser("ndc_leak");
  return {
    label: "mysql2",
    adapter: () => mysql2({ uri: user.url, connectionLimit: 3 }),
    serverCount: () => mysqlConnectionCount(user.user),
    async leak(db) {
      const conn = await db.getConnection();
      await conn.query("SELECT 1");
      return conn;
    },
    async proper(db) {
      const conn = await db.getConnection();
      try {
        return (await conn.query("SELECT 1 AS one"))[0];
      } finally {
        conn.release();
      }
    },
    query: (db) => db.query("SELECT 1"),
    teardown: () => user.drop(),
  };
}

/** Polls a server-side count in the background and keeps the highest value seen. */
function watchMax(read: () => Promise<number>) {
  let max = 0;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      max = Math.max(max, await read());
      await sleep(10);
    }
  })();
  return async () => {
    stop = true;
    await done;
    return max;
  };
}

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

describe.each([
  { label: "pg", make: pgTarget },
  { label: "mysql2", make: mysqlTarget },
])("leak guard: $label", ({ make }) => {
  let target: SqlTarget;
  // Each test closes what it opened, so server-side counts start from 0.
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    target = await make();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    expect(await waitFor(() => target.serverCount(), (n) => n === 0, 10_000)).toBe(0);
  });
  afterAll(async () => {
    await target?.teardown();
  });

  it("100 leaking requests on a pool of 3 (v1 router, api(), route()) all succeed; the guard releases and logs each", async () => {
    const logger = captureLogger();
    const database = createDatabase(target.adapter(), { name: uniqueName(`leak_${target.label}`), logger });
    cleanups.push(() => database.close());
    const leaky = await serveRouters(database, async (db) => void (await target.leak(db)));
    cleanups.push(() => leaky.close());

    const stopWatch = watchMax(() => target.serverCount());
    const statuses: number[] = [];
    // 100 requests, 10 at a time, spread over the three router layers.
    for (let wave = 0; wave < 10; wave++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const server = leaky.all[(wave * 10 + i) % 3]!;
          return timedGet(`${server.url}/leak/${wave}-${i}?token=s3cret`);
        }),
      );
      statuses.push(...results.map((r) => r.status));
    }
    expect(statuses).toHaveLength(100);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // The guard releases on the response's 'close', a moment after the client has the answer.
    await waitFor(() => database.stats().leaksReleased, (n) => n === 100);
    const maxSeen = await stopWatch();
    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(3);
    expect(database.stats().leaksReleased).toBe(100);

    const warnings = logger.lines.filter((l) => l.startsWith("warn") && l.includes("did not release it"));
    expect(warnings).toHaveLength(100);
    expect(warnings[0]).toMatch(/GET \/leak\/\d+-\d+ checked out a connection/);
    expect(logger.text()).not.toContain("s3cret");
    expect(logger.text()).not.toContain("?token");

    // The pool still serves afterwards, within its size.
    const { db } = await database.connect();
    await target.query(db);
    expect(await target.proper(db)).toHaveLength(1);
    expect(await target.serverCount()).toBeLessThanOrEqual(3);
    expect(database.stats().pool).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it("a handler that releases properly is untouched: no warning, nothing counted", async () => {
    const logger = captureLogger();
    const database = createDatabase(target.adapter(), { name: uniqueName(`proper_${target.label}`), logger });
    cleanups.push(() => database.close());
    const proper = await serveRouters(database, (db) => target.proper(db));
    cleanups.push(() => proper.close());
    for (let i = 0; i < 30; i++) {
      const r = await timedGet(`${proper.all[i % 3]!.url}/proper?i=${i}`);
      expect(r.status).toBe(200);
    }
    // The guard acts when a response closes: once all 30 have closed, it has had its say.
    expect(await waitFor(() => proper.closedResponses(), (n) => n === 30)).toBe(30);
    expect(database.stats().leaksReleased).toBe(0);
    expect(logger.text()).not.toMatch(/did not release/);
    expect(database.stats().pool).toMatchObject({ inUse: 0 });
    // Released connections are reused, not destroyed: no churn.
    expect(await target.serverCount()).toBe(1);
  });

  it("control: with leakGuard: false the same handlers exhaust the pool and the 4th request hangs", async () => {
    const logger = captureLogger();
    const database = createDatabase(target.adapter(), { name: uniqueName(`noguard_${target.label}`), logger, leakGuard: false });
    const leaked: Array<{ release(): void }> = [];
    let handed = 0; // connections handed to handlers, leaked ones included
    const releaseAll = () => leaked.splice(0).forEach((c) => c.release());
    cleanups.push(async () => {
      releaseAll();
      // The hung request gets a connection now, and leaks it too: release that one as well.
      await waitFor(() => handed, (n) => n === 4, 10_000);
      releaseAll();
      await database.close();
    });
    const leaky = await serveRouters(database, async (db) => {
      const c = await target.leak(db);
      handed++;
      leaked.push(c);
    });
    cleanups.push(() => leaky.close());

    for (let i = 0; i < 3; i++) expect((await timedGet(`${leaky.v1.url}/leak/${i}`)).status).toBe(200);
    expect(await target.serverCount()).toBe(3);
    // The three responses have closed: a guard would have released their connections by now.
    expect(await waitFor(() => leaky.closedResponses(), (n) => n === 3)).toBe(3);
    const abort = new AbortController();
    let fourth = "unanswered";
    const request = fetch(`${leaky.v1.url}/leak/4`, { signal: abort.signal }).then(
      (r) => void (fourth = `answered ${r.status}`),
      () => {},
    );
    // The 4th queues for a connection that nothing will give back: three in use, none released.
    expect(await waitFor(() => database.stats().pool, (p) => p?.waiting === 1)).toMatchObject({ inUse: 3, waiting: 1 });
    expect(fourth).toBe("unanswered");
    expect(database.stats().leaksReleased).toBe(0);
    expect(await target.serverCount()).toBe(3);
    abort.abort();
    await request;
  });
});

describe("close()", () => {
  afterAll(async () => {
    await closeAdmin();
    await closeMysqlAdmin();
  });

  async function exercise(database: any, open: (db: any) => Promise<unknown>, serverCount: () => Promise<number>) {
    const { db } = await database.connect();
    await open(db);
    expect(await serverCount()).toBeGreaterThanOrEqual(2);
    // Twice at once, then once more: one close, no error.
    await Promise.all([database.close(), database.close()]);
    await database.close();
    expect(await waitFor(serverCount, (n) => n === 0, 10_000)).toBe(0);
    expect(database.stats()).toMatchObject({ state: "idle", pool: null, connects: 1 });
    // The next use connects again.
    const again = await database.connect();
    await open(again.db);
    expect(database.stats()).toMatchObject({ state: "connected", connects: 2 });
    expect(await serverCount()).toBeGreaterThanOrEqual(1);
    await database.close();
    expect(await waitFor(serverCount, (n) => n === 0, 10_000)).toBe(0);
  }

  it("pg: ends every connection (pg_stat_activity 0), idempotent, reconnects on next use", async () => {
    const app = uniqueName("ndc_close_pg");
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 3 }), { name: app, logger: captureLogger() });
    await exercise(database, (db) => Promise.all([1, 2, 3].map(() => db.query("SELECT pg_sleep(0.05)"))), () => pgConnectionCount(app));
  });

  it("mysql2: ends every connection (processlist 0), idempotent, reconnects on next use", async () => {
    const user = await createMysqlUser("ndc_close");
    try {
      const database = createDatabase(mysql2({ uri: user.url, connectionLimit: 3 }), { name: uniqueName("close_mysql"), logger: captureLogger() });
      await exercise(database, (db) => Promise.all([1, 2, 3].map(() => db.query("SELECT SLEEP(0.05)"))), () => mysqlConnectionCount(user.user));
    } finally {
      await user.drop();
    }
  });

  it("close() of a database with no pool (never connected, or already closed) leaves it usable", async () => {
    // Regression: close() with nothing to close used to leave a settled promise
    // in the lifecycle's `closing` slot, and the next connect() spun forever.
    const app = uniqueName("ndc_close_idle");
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 1 }), { name: app, logger: captureLogger() });
    await database.close();
    await Promise.all([database.close(), database.close()]);
    const connected = await Promise.race([database.connect().then(() => "connected"), sleep(10_000).then(() => "hung")]);
    expect(connected).toBe("connected");
    expect(await pgConnectionCount(app)).toBe(1);
    await database.close();
    await database.close();
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0, 10_000)).toBe(0);
    expect((await database.connect().then(() => "connected"))).toBe("connected");
    expect(database.stats().connects).toBe(2);
    await database.close();
  });

  it.skipIf(needsWireServer("connection count (leak-guard: close() ends every connection)"))("mongodb: ends every connection (wire server count 0, monitor included), idempotent, reconnects on next use", async () => {
    const { server, uri } = await wireServerTarget();
    try {
      const database = createDatabase(mongodb({ url: `${uri}/ndc_close`, maxPoolSize: 3 }), { name: uniqueName("close_mongo"), logger: captureLogger() });
      await exercise(
        database,
        (db) => Promise.all([1, 2, 3].map(() => db.collection("c").findOne({}))),
        async () => server.connectionCount,
      );
    } finally {
      await server.stop();
    }
  });
});
