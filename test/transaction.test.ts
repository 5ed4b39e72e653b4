/**
 * `database.transaction(fn)` for pg and mysql2 against the real servers:
 * commit on success (visible from a separate admin connection), rollback on
 * throw (the error rethrown unchanged), the connection released either way
 * (server-side count bounded, pool idle again over 50 transactions, half of
 * them failing), and use of the tx client inside a request through the
 * middleware.
 *
 * Control: a hand-written transaction that forgets `release()` on its error
 * path drains a small pool: after two failures, the next query waits.
 */
import { createRouter } from "next-connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { serveNode } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { closeMysqlAdmin, createMysqlUser, mysqlAdminQuery, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { sendJson } from "./support/routes.js";
import { queuedCallbacksRun, sleep, waitFor } from "./support/wait.js";

const table = uniqueName("ndc_tx");

interface TxTarget {
  label: "pg" | "mysql2";
  adapter(): any;
  serverCount(): Promise<number>;
  insert(tx: any, text: string): Promise<unknown>;
  count(db: any): Promise<number>;
  /** Committed rows, read on a separate admin connection. */
  committed(): Promise<string[]>;
  /** The usual hand-written transaction, with release() forgotten on the error path. */
  naiveTransaction<T>(db: any, fn: (tx: any) => Promise<T>, leaked: Array<{ release(): void }>): Promise<T>;
  teardown(): Promise<void>;
}

async function pgTarget(): Promise<TxTarget> {
  const url = await postgresUrl();
  const app = uniqueName("ndc_tx_pg");
  await adminQuery(`CREATE TABLE ${table} (id serial PRIMARY KEY, text text NOT NULL)`);
  return {
    label: "pg",
    adapter: () => pg({ connectionString: url, application_name: app, max: 2 }),
    serverCount: () => pgConnectionCount(app),
    insert: (tx, text) => tx.query(`INSERT INTO ${table} (text) VALUES ($1)`, [text]),
    count: async (db) => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
    committed: async () => (await adminQuery<{ text: string }>(`SELECT text FROM ${table} ORDER BY id`)).map((r) => r.text),
    async naiveTransaction(db, fn, leaked) {
      const client = await db.connect();
      leaked.push(client); // for the test's cleanup only
      await client.query("BEGIN");
      try {
        const result = await fn(client);
        await client.query("COMMIT");
        client.release();
        leaked.pop();
        return result;
      } catch (err) {
        await client.query("ROLLBACK");
        throw err; // forgot client.release()
      }
    },
    teardown: async () => void (await adminQuery(`DROP TABLE IF EXISTS ${table}`)),
  };
}

async function mysqlTarget(): Promise<TxTarget> {
  const user: MysqlTestUser = await createMysqlUser("ndc_tx");
  await mysqlAdminQuery(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(100) NOT NULL) ENGINE=InnoDB`);
  return {
    label: "mysql2",
    adapter: () => mysql2({ uri: user.url, connectionLimit: 2 }),
    serverCount: () => mysqlConnectionCount(user.user),
    insert: (tx, text) => tx.query(`INSERT INTO ${table} (text) VALUES (?)`, [text]),
    count: async (db) => Number(((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0] as Array<{ n: number }>)[0]!.n),
    committed: async () => ((await mysqlAdminQuery(`SELECT text FROM ${table} ORDER BY id`)) as Array<{ text: string }>).map((r) => r.text),
    async naiveTransaction(db, fn, leaked) {
      const conn = await db.getConnection();
      leaked.push(conn);
      await conn.beginTransaction();
      try {
        const result = await fn(conn);
        await conn.commit();
        conn.release();
        leaked.pop();
        return result;
      } catch (err) {
        await conn.rollback();
        throw err; // forgot conn.release()
      }
    },
    async teardown() {
      await mysqlAdminQuery(`DROP TABLE IF EXISTS ${table}`);
      await user.drop();
    },
  };
}

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

/**
 * A query that got a pooled connection at once: once the pool has handed out
 * its idle connections (pg-pool does so on the next tick), nobody is queued (a
 * pool drained by leaks would show it waiting). Then it is answered; no clock
 * decides.
 */
async function answeredWithoutWaiting(database: { stats(): { pool: { waiting: number | null } | null } }, query: Promise<unknown>): Promise<void> {
  await queuedCallbacksRun();
  expect(database.stats().pool?.waiting).toBe(0);
  await query;
}

describe.each([
  { label: "pg", make: pgTarget },
  { label: "mysql2", make: mysqlTarget },
])("transaction(): $label", ({ make }) => {
  let target: TxTarget;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    target = await make();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  afterAll(async () => {
    await target?.teardown();
  });

  function define(options: { leakGuard?: boolean } = {}) {
    const logger = captureLogger();
    const database = createDatabase(target.adapter(), { name: uniqueName(`tx_${target.label}`), logger, ...options }) as any;
    cleanups.push(() => database.close());
    return { database, logger };
  }

  it("commits on success: rows visible from another connection; rolls back on throw, rethrowing the same error", async () => {
    const { database } = define();
    const result = await database.transaction(async (tx: any) => {
      await target.insert(tx, "commit-a");
      await target.insert(tx, "commit-b");
      // Not visible outside the transaction before COMMIT.
      expect(await target.committed()).not.toContain("commit-a");
      return "done";
    });
    expect(result).toBe("done");
    expect(await target.committed()).toEqual(expect.arrayContaining(["commit-a", "commit-b"]));

    class Boom extends Error {}
    const boom = new Boom("boom");
    const caught = await database
      .transaction(async (tx: any) => {
        await target.insert(tx, "rollback-c");
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(caught).toBe(boom); // the very same error object, not a wrapper
    expect(await target.committed()).not.toContain("rollback-c");
    expect(database.stats().pool).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it("releases the connection every time: 50 concurrent transactions, half failing, on a pool of 2", async () => {
    const { database } = define();
    const before = (await target.committed()).length;
    let maxSeen = 0;
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        maxSeen = Math.max(maxSeen, await target.serverCount());
        await sleep(10);
      }
    })();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        database.transaction(async (tx: any) => {
          await target.insert(tx, `bulk-${i}`);
          if (i % 2 === 1) throw new Error(`fail-${i}`);
          return i;
        }),
      ),
    );
    stop = true;
    await watcher;
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(25);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.message)).toEqual(
      Array.from({ length: 25 }, (_, k) => `fail-${2 * k + 1}`),
    );
    const rows = await target.committed();
    expect(rows.length - before).toBe(25);
    expect(rows.filter((t) => /^bulk-\d+$/.test(t) && Number(t.slice(5)) % 2 === 1)).toEqual([]);
    // Bounded by the pool, and every connection back in it.
    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(2);
    expect(database.stats().pool).toMatchObject({ inUse: 0, waiting: 0 });
    const { db } = await database.connect();
    await answeredWithoutWaiting(database, target.count(db));
  });

  it("inside a request through the middleware: tx client and req.db side by side, no leak warning, errors roll back", async () => {
    const { database, logger } = define();
    const router = createRouter<IncomingMessage & { db: any }, ServerResponse>()
      .use(database)
      .post(async (req, res) => {
        const url = new URL(req.url!, "http://x");
        const text = url.searchParams.get("text")!;
        const before = await target.count(req.db);
        const inside = await database.transaction(async (tx: any) => {
          await target.insert(tx, text);
          if (url.searchParams.has("fail")) throw new Error("handler failed after insert");
          return target.count(tx);
        });
        sendJson(res, 201, { before, inside });
      });
    let closed = 0;
    const server = await serveNode((req, res) => {
      res.once("close", () => setImmediate(() => closed++)); // counted after the leak guard's own 'close' listener
      void router.run(req as never, res).catch((e) => sendJson(res, 500, { error: String(e.message) }));
    });
    cleanups.push(() => server.close());

    const ok = await fetch(`${server.url}/items?text=req-ok`, { method: "POST" });
    expect(ok.status).toBe(201);
    const body = await ok.json();
    expect(body.inside).toBe(body.before + 1);
    expect(await target.committed()).toContain("req-ok");

    const failed = await fetch(`${server.url}/items?text=req-fail&fail=1`, { method: "POST" });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: "handler failed after insert" });
    expect(await target.committed()).not.toContain("req-fail");

    // The leak guard acts when a response closes: both have, so it has had its say.
    expect(await waitFor(() => closed, (n) => n === 2)).toBe(2);
    expect(database.stats().leaksReleased).toBe(0);
    expect(logger.text()).not.toMatch(/did not release/);
    expect(database.stats().pool).toMatchObject({ inUse: 0 });
    expect(await target.serverCount()).toBeLessThanOrEqual(2);
  });

  it("control: a hand-written transaction that forgets release() on its error path drains the pool; transaction() does not", async () => {
    const { database } = define();
    const { db } = await database.connect();
    const leaked: Array<{ release(): void }> = [];
    cleanups.push(async () => leaked.splice(0).forEach((c) => c.release()));

    for (let i = 0; i < 2; i++) {
      await expect(
        target.naiveTransaction(db, async (tx) => {
          await target.insert(tx, `naive-${i}`);
          throw new Error("naive failure");
        }, leaked),
      ).rejects.toThrow("naive failure");
    }
    expect(await target.serverCount()).toBe(2);
    expect(database.stats().pool).toMatchObject({ inUse: 2 });
    // The pool of 2 is drained: the next plain query queues, and nothing will give it a connection.
    let naive = "waiting";
    const pending = target.count(db).then(() => void (naive = "answered"));
    expect(await waitFor(() => database.stats().pool, (p) => p?.waiting === 1)).toMatchObject({ inUse: 2, waiting: 1 });
    expect(naive).toBe("waiting");
    leaked.splice(0).forEach((c) => c.release());
    await pending; // answered once the leaked connections were given back

    // The same failures through transaction(): nothing stays out.
    for (let i = 0; i < 5; i++) {
      await expect(
        database.transaction(async (tx: any) => {
          await target.insert(tx, `ours-${i}`);
          throw new Error("our failure");
        }),
      ).rejects.toThrow("our failure");
    }
    expect(database.stats().pool).toMatchObject({ inUse: 0, waiting: 0 });
    await answeredWithoutWaiting(database, target.count(db));
    expect(await waitFor(() => target.serverCount(), (n) => n <= 2)).toBeLessThanOrEqual(2);
  });
});
