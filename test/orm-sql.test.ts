/**
 * Drizzle and Kysely over the managed pool, on real PostgreSQL and MariaDB:
 * `pg(config, { db: (pool) => drizzle(pool) })` and the same for mysql2, with
 * Kysely's PostgresDialect (the Pool) and MysqlDialect (mysql2's callback
 * pool, `pool.pool`). Through next-connect v1, `api()` and `route()`:
 *
 * - CRUD through the library's own API, rows read back on the server;
 * - two definitions of one configuration (Drizzle in one, Kysely in the
 *   other) get their own kind of `db` over one pool, counted on the server;
 * - a connection cut under an ORM query is recognised (the pool recorded the
 *   error, Drizzle wrapped it in DrizzleQueryError): 503 with Retry-After.
 *   Control: the same ORM over a plain hand-written pool gives the app's 500;
 * - an outage (the TCP proxy in front of the server stops): 503 with
 *   Retry-After, fast; recovery without a restart once it is back.
 */
import { sql as drizzleSql } from "drizzle-orm";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { pgTable, serial, text } from "drizzle-orm/pg-core";
import { eq } from "drizzle-orm";
import { Kysely, MysqlDialect, PostgresDialect, sql as kyselySql } from "kysely";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg as pgAdapter } from "../src/adapters/pg.js";
import { serveNode } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { closeMysqlAdmin, createMysqlUser, mysqlAdminQuery, mysqlUrl, type MysqlTestUser } from "./support/mysql.js";
import { adminQuery, closeAdmin, postgresUrl, uniqueName } from "./support/postgres.js";
import { serveRouters, sendJson, timedGet, type RouterTargets } from "./support/routes.js";
import { proxyInFrontOf, type TcpProxy } from "./support/tcp-proxy.js";
import { waitFor } from "./support/wait.js";

/** What a test does through an ORM, whichever it is. */
interface Orm {
  insert(text: string): Promise<void>;
  texts(): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  remove(text: string): Promise<void>;
  sleep(seconds: number): Promise<void>;
  kind(): string;
}

interface Server {
  label: string;
  /** A URL through the proxy, for a pool the server can tell apart. */
  url(proxyPort: number): string;
  /** The pool options for the package and for the control's plain pool. */
  poolOptions(url: string): Record<string, unknown>;
  plainPool(url: string): unknown;
  createTable(table: string): Promise<void>;
  dropTable(table: string): Promise<void>;
  serverTexts(table: string): Promise<string[]>;
  connections(): Promise<number>;
  sleeping(): Promise<number>;
  /** A cut client does not stop the server's sleep: end those backends, so the next test counts only its own. */
  endSleepers(): Promise<void>;
  adapter(options: Record<string, unknown>, mapping?: { db: (pool: any) => unknown }): any;
  drizzle(table: string): (pool: any) => Orm;
  kysely(table: string): (pool: any) => Orm;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

const pgApp = uniqueName("ndc_orm_pg");
let mysqlUser: MysqlTestUser;

const servers: Server[] = [
  {
    label: "PostgreSQL",
    url: (port) => {
      const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    poolOptions: (url) => ({ connectionString: url, application_name: pgApp, max: 4 }),
    plainPool: (url) => {
      const pool = new pg.Pool({ connectionString: url, application_name: `${pgApp}_plain`, max: 4 });
      // The control must survive the cut (only its answer is compared): without these listeners a
      // client Kysely holds checked out emits an uncaught 'error' and ends the process.
      pool.on("error", () => {});
      pool.on("connect", (client) => client.on("error", () => {}));
      return pool;
    },
    createTable: async (t) => void (await adminQuery(`CREATE TABLE ${t} (id serial PRIMARY KEY, text text NOT NULL)`)),
    dropTable: async (t) => void (await adminQuery(`DROP TABLE IF EXISTS ${t}`)),
    serverTexts: async (t) => (await adminQuery<{ text: string }>(`SELECT text FROM ${t} ORDER BY id`)).map((r) => r.text),
    connections: async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [pgApp]))[0]!.n),
    sleeping: async () =>
      Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND query LIKE '%pg_sleep%' AND state = 'active'", [`${pgApp}%`]))[0]!.n),
    endSleepers: async () =>
      void (await adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND query LIKE '%pg_sleep%'", [`${pgApp}%`])),
    adapter: (options, mapping) => (mapping ? pgAdapter(options, mapping) : pgAdapter(options)),
    drizzle: (table) => (pool) => {
      const notes = pgTable(table, { id: serial("id").primaryKey(), text: text("text").notNull() });
      const db = drizzlePg(pool);
      return {
        insert: async (value) => void (await db.insert(notes).values({ text: value })),
        texts: async () => (await db.select().from(notes).orderBy(notes.id)).map((r) => r.text),
        rename: async (from, to) => void (await db.update(notes).set({ text: to }).where(eq(notes.text, from))),
        remove: async (value) => void (await db.delete(notes).where(eq(notes.text, value))),
        sleep: async (s) => void (await db.execute(drizzleSql`SELECT pg_sleep(${s})`)),
        kind: () => "drizzle",
      };
    },
    kysely: (table) => (pool) => kyselyOrm(new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), table, "pg_sleep"),
    setup: async () => {},
    teardown: async () => {},
  },
  {
    label: "MariaDB",
    url: (port) => {
      const url = new URL(mysqlUser.url);
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    poolOptions: (url) => ({ uri: url, connectionLimit: 4 }),
    plainPool: (url) => {
      const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
      // A cut connection of a bare mysql2 pool emits 'error' with nobody listening; here it must not end the test run.
      (pool as unknown as { pool: NodeJS.EventEmitter }).pool.on("connection", (c: NodeJS.EventEmitter) => c.on("error", () => {}));
      return pool;
    },
    createTable: async (t) => void (await mysqlAdminQuery(`CREATE TABLE ${t} (id int AUTO_INCREMENT PRIMARY KEY, text varchar(255) NOT NULL)`)),
    dropTable: async (t) => void (await mysqlAdminQuery(`DROP TABLE IF EXISTS ${t}`)),
    serverTexts: async (t) => ((await mysqlAdminQuery(`SELECT text FROM ${t} ORDER BY id`)) as Array<{ text: string }>).map((r) => r.text),
    connections: async () =>
      Number(((await mysqlAdminQuery("SELECT count(*) AS n FROM information_schema.processlist WHERE user = ?", [mysqlUser.user])) as Array<{ n: number }>)[0]!.n),
    sleeping: async () =>
      Number(((await mysqlAdminQuery("SELECT count(*) AS n FROM information_schema.processlist WHERE user = ? AND info LIKE 'select sleep%'", [mysqlUser.user])) as Array<{ n: number }>)[0]!.n),
    endSleepers: async () => {
      const rows = (await mysqlAdminQuery("SELECT id FROM information_schema.processlist WHERE user = ? AND info LIKE 'select sleep%'", [mysqlUser.user])) as Array<{ id: number }>;
      for (const { id } of rows) await mysqlAdminQuery(`KILL ${Number(id)}`).catch(() => {});
    },
    adapter: (options, mapping) => (mapping ? mysql2(options, mapping) : mysql2(options)),
    drizzle: (table) => (pool) => {
      const notes = mysqlTable(table, { id: int("id").autoincrement().primaryKey(), text: varchar("text", { length: 255 }).notNull() });
      const db = drizzleMysql(pool);
      return {
        insert: async (value) => void (await db.insert(notes).values({ text: value })),
        texts: async () => (await db.select().from(notes).orderBy(notes.id)).map((r) => r.text),
        rename: async (from, to) => void (await db.update(notes).set({ text: to }).where(eq(notes.text, from))),
        remove: async (value) => void (await db.delete(notes).where(eq(notes.text, value))),
        sleep: async (s) => void (await db.execute(drizzleSql`select sleep(${s})`)),
        kind: () => "drizzle",
      };
    },
    // Kysely's MysqlDialect calls the callback API (getConnection(cb), query(sql, params, cb), release, end(cb)): the promise pool's `.pool`.
    kysely: (table) => (pool) => kyselyOrm(new Kysely<any>({ dialect: new MysqlDialect({ pool: pool.pool }) }), table, "sleep"),
    setup: async () => {
      mysqlUser = await createMysqlUser("ndc_orm");
    },
    teardown: async () => {
      await mysqlUser?.drop();
    },
  },
];

function kyselyOrm(db: Kysely<any>, table: string, sleepFn: "pg_sleep" | "sleep"): Orm {
  return {
    insert: async (value) => void (await db.insertInto(table).values({ text: value }).execute()),
    texts: async () => (await db.selectFrom(table).select("text").orderBy("id").execute()).map((r) => r.text as string),
    rename: async (from, to) => void (await db.updateTable(table).set({ text: to }).where("text", "=", from).execute()),
    remove: async (value) => void (await db.deleteFrom(table).where("text", "=", value).execute()),
    sleep: async (s) => void (await kyselySql`select ${kyselySql.raw(sleepFn)}(${s})`.execute(db)),
    kind: () => "kysely",
  };
}

const libraries = ["drizzle", "kysely"] as const;

describe.each(servers)("Drizzle and Kysely over the managed $label pool", (server) => {
  let proxy: TcpProxy;
  const tables: string[] = [];

  beforeAll(async () => {
    await server.setup();
    proxy = await proxyInFrontOf(server.label === "PostgreSQL" ? await postgresUrl() : mysqlUrl(), server.label === "PostgreSQL" ? 5432 : 3306);
  });

  afterAll(async () => {
    await proxy?.down();
    for (const t of tables) await server.dropTable(t);
    await server.teardown();
  });

  async function table(): Promise<string> {
    const name = uniqueName("ndc_orm_notes");
    tables.push(name);
    await server.createTable(name);
    return name;
  }

  describe.each(libraries)("%s", (library) => {
    it("CRUD through the library inside next-connect, api() and route(); req.dbClient is the pool", async () => {
      const t = await table();
      const toOrm = server[library](t);
      const database = createDatabase(server.adapter(server.poolOptions(server.url(proxy.port)), { db: toOrm }), {
        name: uniqueName(`orm_${library}`),
        logger: captureLogger(),
      });
      let n = 0;
      const targets: RouterTargets = await serveRouters(database, async (db: Orm, dbClient: any) => {
        const mine = `${library}-${++n}`;
        await db.insert(mine);
        await db.rename(mine, `${mine}-renamed`);
        const texts = await db.texts();
        await db.insert(`${mine}-gone`);
        await db.remove(`${mine}-gone`);
        return { kind: db.kind(), texts, clientIsPool: typeof dbClient.getConnection === "function" || typeof dbClient.connect === "function" };
      });
      try {
        for (const target of targets.all) {
          const res = await fetch(target.url);
          const body = (await res.json()) as { result: { kind: string; texts: string[]; clientIsPool: boolean } };
          expect(res.status).toBe(200);
          expect(body.result.kind).toBe(library);
          expect(body.result.clientIsPool).toBe(true);
        }
        // On the server: what the three routes wrote, renamed, and without what they deleted.
        expect(await server.serverTexts(t)).toEqual([`${library}-1-renamed`, `${library}-2-renamed`, `${library}-3-renamed`]);
        const stats = database.stats();
        expect(stats.connects).toBe(1);
        expect(stats.pool?.open).toBeGreaterThan(0);
      } finally {
        await targets.close();
        await database.close();
      }
    });

    it("a connection cut under a query of the library is a 503 with Retry-After; control: the same library on a plain pool gives the app's 500", async () => {
      const t = await table();
      const toOrm = server[library](t);
      const url = server.url(proxy.port);
      const database = createDatabase(server.adapter(server.poolOptions(url), { db: toOrm }), {
        name: uniqueName(`orm_cut_${library}`),
        logger: captureLogger(),
      });
      const ours = await serveRouters(database, async (db: Orm) => db.sleep(5));
      const plain = server.plainPool(url);
      const plainOrm = toOrm(plain);
      const control = await serveNode((_req, res) =>
        void plainOrm.sleep(5).then(() => sendJson(res, 200, { ok: true }), (e) => sendJson(res, 500, { crashed: String(e) })),
      );
      try {
        const answers = Promise.all([...ours.all, control].map((s) => timedGet(s.url)));
        await waitFor(() => server.sleeping(), (n) => n >= 4, 10_000);
        proxy.cutAll();
        const [v1, api, route, plainAnswer] = await answers;
        for (const answer of [v1!, api!, route!]) {
          expect(answer.status).toBe(503);
          expect(answer.retryAfter).toMatch(/^\d+$/);
          expect(JSON.parse(answer.body)).toMatchObject({ error: "database_unavailable", reason: "unreachable" });
        }
        expect(plainAnswer!.status).toBe(500);
      } finally {
        await ours.close();
        await control.close();
        await database.close();
        await (plain as { end(): Promise<void> }).end().catch(() => {});
        await server.endSleepers();
        await waitFor(() => server.sleeping(), (n) => n === 0, 10_000);
      }
    });
  });

  it("two definitions of one configuration, Drizzle in one and Kysely in the other, share one pool and each get their own db", async () => {
    const t = await table();
    const options = server.poolOptions(server.url(proxy.port));
    const name = uniqueName("orm_shared");
    const viaDrizzle = createDatabase(server.adapter(options, { db: server.drizzle(t) }), { name, logger: captureLogger() });
    const viaKysely = createDatabase(server.adapter(options, { db: server.kysely(t) }), { name, logger: captureLogger() });
    try {
      const work = Array.from({ length: 20 }, async (_, i) => {
        const { db } = await (i % 2 ? viaKysely : viaDrizzle).connect();
        await (db as Orm).insert(`${(db as Orm).kind()}-${i}`);
        return (db as Orm).kind();
      });
      const kinds = await Promise.all(work);
      expect(kinds.filter((k) => k === "kysely")).toHaveLength(10);
      expect(kinds.filter((k) => k === "drizzle")).toHaveLength(10);
      expect((await server.serverTexts(t)).length).toBe(20);
      expect(viaDrizzle.stats().connects).toBe(1);
      expect((await viaDrizzle.connect()).client).toBe((await viaKysely.connect()).client);
      // Counted on the server: one pool's connections, never more than its max of 4.
      if (server.label === "PostgreSQL") expect(await server.connections()).toBeLessThanOrEqual(4);
      else expect(await server.connections()).toBeLessThanOrEqual(4);
    } finally {
      await viaDrizzle.close();
    }
  });

  it("an outage under Drizzle: 503 with Retry-After at once, then recovery without a restart", async () => {
    const t = await table();
    const database = createDatabase(server.adapter(server.poolOptions(server.url(proxy.port)), { db: server.drizzle(t) }), {
      name: uniqueName("orm_outage"),
      logger: captureLogger(),
      retry: { cooldownMs: 500 },
    });
    const targets = await serveRouters(database, async (db: Orm) => {
      await db.insert("x");
      return db.texts();
    });
    try {
      expect((await timedGet(targets.route.url)).status).toBe(200);
      await proxy.down();
      const during = await Promise.all(targets.all.map((s) => timedGet(s.url)));
      // The first may discover the outage itself; every answer is a 503 with Retry-After, none a 500.
      for (const answer of during) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toMatch(/^\d+$/);
      }
      const later = await timedGet(targets.v1.url);
      expect(later.status).toBe(503);
      expect(later.ms).toBeLessThan(1000); // fails fast during the cooldown, on a loaded machine too
      await proxy.up();
      const back = await waitFor(() => timedGet(targets.api.url), (a) => a.status === 200, 15_000, 200);
      expect(back.status).toBe(200);
    } finally {
      await proxy.up();
      await targets.close();
      await database.close();
    }
  });
});

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});
