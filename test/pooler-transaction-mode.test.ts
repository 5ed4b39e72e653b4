/**
 * What breaks behind a transaction-mode pooler, shown against a real
 * PgBouncer (pool_mode=transaction, two server connections) in front of the
 * shared PostgreSQL, and what the package does about each:
 *
 * | feature                         | plain node-postgres through PgBouncer           | the package                                 |
 * | named prepared statements       | 26000 "prepared statement ... does not exist"   | warns once (pooler: "transaction"), or explains the 26000 once a pooler is detected |
 * | session SET                     | leaks to another client; lost for this one      | warns once                                   |
 * | pg_advisory_lock / unlock       | unlock returns false; the lock stays held       | warns once                                   |
 * | LISTEN                          | accepted; the notification reaches another client | refused with a TransactionPoolerError      |
 * | PgBouncer's own limits (08P01)  | max_client_conn, query_wait_timeout             | 503 saturated, not a cooldown               |
 *
 * Every pitfall has its control in session mode (the same statements work)
 * and the package's check has its control (SET LOCAL, pg_advisory_xact_lock,
 * unnamed statements: no warning). A second client holding a server
 * connection in a transaction is what sends the next statement to another
 * server connection: PgBouncer hands out the most recently used one first.
 *
 * Skipped, with the reason printed, when no pgbouncer binary is installed.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { pg as pgAdapter } from "../src/adapters/pg.js";
import { serveWeb, type TestServer } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { findPgbouncer, startPgbouncer, type Pgbouncer } from "./support/pgbouncer.js";
import { postgresUrl, uniqueName } from "./support/postgres.js";
import { sleep, waitFor } from "./support/wait.js";

const lookup = findPgbouncer();
if (!lookup.found) console.log(`[skip] transaction-mode pooler tests: ${lookup.reason}`);

describe.skipIf(!lookup.found)("behind PgBouncer in transaction mode", () => {
  let bouncer: Pgbouncer;
  let direct: string;
  const opened: Array<{ end(): Promise<unknown> }> = [];

  beforeAll(async () => {
    direct = await postgresUrl();
    const server = new URL(direct);
    bouncer = await startPgbouncer({
      binary: (lookup as { path: string }).path,
      server: { host: server.hostname, port: Number(server.port || 5432) },
      databases: {
        tx: { dbname: server.pathname.slice(1), poolMode: "transaction" },
        session: { dbname: server.pathname.slice(1), poolMode: "session" },
      },
      users: [{ name: decodeURIComponent(server.username || "postgres"), password: decodeURIComponent(server.password) }],
      authType: "trust",
      poolSize: 2,
    });
  });
  // Session mode gives each client connection a server connection for its
  // life (two here): every test closes what it opened.
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.end().catch(() => {});
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  async function client(database: "tx" | "session" | "direct"): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: database === "direct" ? direct : bouncer.url(database), application_name: "ndc_pooler_test" });
    c.on("error", () => {});
    await c.connect();
    opened.push(c);
    return c;
  }

  /** Runs `fn` while another client holds the server connection `of` used last, so `of`'s next statement gets another one. */
  async function onAnotherServerConnection<T>(database: "tx" | "session", fn: () => Promise<T>): Promise<T> {
    const holder = await client(database);
    await holder.query("BEGIN");
    await holder.query("SELECT 1");
    try {
      return await fn();
    } finally {
      await holder.query("COMMIT");
      await holder.end();
    }
  }

  function packageDatabase(o: { pooler?: "transaction" | "session"; database?: "tx" | "session" | "direct" } = {}) {
    const log = captureLogger();
    const name = uniqueName("ndc_pbt");
    const url = o.database === "direct" ? direct : bouncer.url(o.database ?? "tx");
    const database = createDatabase(pgAdapter({ connectionString: url, max: 2, application_name: name, ...(o.pooler ? { pooler: o.pooler } : {}) }), {
      name,
      logger: log,
      connectionBudget: false,
    });
    opened.push({ end: () => database.close() });
    return { database, log, warnings: () => log.lines.filter((l) => l.startsWith("warn")) };
  }

  describe("detection", () => {
    it("finds the pooler at connect (its cancel key is not the backend's pid); a direct connection is not taken for one", async () => {
      const through = packageDatabase();
      await through.database.connect();
      const straight = packageDatabase({ database: "direct" });
      await straight.database.connect();
      const declaredButDirect = packageDatabase({ database: "direct", pooler: "transaction" });
      await declaredButDirect.database.connect();

      expect(through.log.text()).toContain("connections go through a pooler");
      expect(straight.log.text()).not.toContain("pooler");
      expect(declaredButDirect.log.text()).toContain("does not seem to go through a pooler");
      // The raw fact the detection rests on, through PgBouncer and straight to the server.
      for (const [database, differs] of [["tx", true], ["direct", false]] as const) {
        const c = await client(database);
        const pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        expect(pid !== (c as unknown as { processID: number }).processID).toBe(differs);
      }
    });

    it("pooler must be \"transaction\" or \"session\": anything else is a DatabaseConfigError naming it", async () => {
      const database = createDatabase(pgAdapter({ connectionString: direct, pooler: "transactions" as never }), { name: uniqueName("ndc_pbt_bad"), logger: false });
      await expect(database.connect()).rejects.toMatchObject({ name: "DatabaseConfigError", setting: "pooler" });
    });
  });

  describe("named prepared statements", () => {
    // PgBouncer's server connections outlive the tests: a name of their own for each.
    const named = () => ({ name: uniqueName("ndc_stmt"), text: "SELECT $1::int AS n", values: [1] });

    it("plain node-postgres: 26000 once the next execution lands on another server connection; session mode: works", async () => {
      const tx = await client("tx");
      const statement = named();
      await tx.query(statement);
      const err = await onAnotherServerConnection("tx", () => tx.query(statement).then(() => null, (e: { code?: string; message: string }) => e));
      expect(err?.code).toBe("26000");
      expect(err?.message).toBe(`prepared statement "${statement.name}" does not exist`);

      const session = await client("session");
      const again = named();
      await session.query(again);
      const rows = await onAnotherServerConnection("session", () => session.query(again).then((r) => r.rows));
      expect(rows).toEqual([{ n: 1 }]);
    });

    it("pooler: \"transaction\": one warning at the first named statement, before it can fail; unnamed statements say nothing", async () => {
      const { database, warnings } = packageDatabase({ pooler: "transaction" });
      const { db } = await database.connect();
      await db.query("SELECT $1::int AS n", [1]);
      await db.query({ text: "SELECT 2 AS n" });
      expect(warnings()).toEqual([]);
      const statement = named();
      await db.query(statement).catch(() => {});
      await db.query(statement).catch(() => {});
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/named prepared statement went through a transaction-mode pooler.*26000.*Drop its `name`/);
    });

    it("no option, pooler detected: the 26000 is explained once, the error itself is the app's", async () => {
      const { database, warnings } = packageDatabase();
      const { db } = await database.connect();
      const pool = db as pg.Pool;
      const c = await pool.connect();
      const statement = named();
      try {
        await c.query(statement);
        const err = await onAnotherServerConnection("tx", () => c.query(statement).then(() => null, (e: { code?: string }) => e));
        expect(err?.code).toBe("26000");
      } finally {
        c.release();
      }
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/prepared statement not found \(26000\) behind a pooler/);
      expect(database.stats().state).toBe("connected");
    });
  });

  describe("session SET", () => {
    it("plain node-postgres: a SET leaks to another client, and this client may not see it; session mode keeps it", async () => {
      const a = await client("tx");
      const b = await client("tx");
      await a.query("SET statement_timeout = '4321ms'");
      // b's statement takes the server connection a just used (most recently released first).
      expect((await b.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("4321ms");
      const mine = await onAnotherServerConnection("tx", async () => (await a.query("SHOW statement_timeout")).rows[0].statement_timeout);
      expect(mine).not.toBe("4321ms");
      await b.query("RESET statement_timeout");

      const s = await client("session");
      const other = await client("session");
      await s.query("SET statement_timeout = '4321ms'");
      expect((await other.query("SHOW statement_timeout")).rows[0].statement_timeout).not.toBe("4321ms");
      expect((await s.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("4321ms");
    });

    it("pooler: \"transaction\": one warning for a session SET; SET LOCAL in a transaction says nothing", async () => {
      const { database, warnings } = packageDatabase({ pooler: "transaction" });
      await database.connect();
      await database.transaction(async (tx) => {
        await tx.query("SET LOCAL statement_timeout = '5s'");
        await tx.query("SELECT set_config('ndc.tenant', 'a', true)");
      });
      expect(warnings()).toEqual([]);
      const { db } = await database.connect();
      await db.query("SET search_path = public");
      await db.query("RESET search_path; SET search_path TO public");
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/session-level SET went through a transaction-mode pooler.*SET LOCAL/);
    });
  });

  describe("advisory locks", () => {
    const key = 424242;

    it("plain node-postgres: the unlock lands on another server connection, returns false, and the lock stays held", async () => {
      const a = await client("tx");
      await a.query("SELECT pg_advisory_lock($1)", [key]);
      const unlocked = await onAnotherServerConnection("tx", async () => (await a.query("SELECT pg_advisory_unlock($1) AS ok", [key])).rows[0].ok);
      expect(unlocked).toBe(false);
      const outsider = await client("direct");
      expect((await outsider.query("SELECT pg_try_advisory_lock($1) AS got", [key])).rows[0].got).toBe(false);
      // Release it where it lives: the server connection that took it.
      await a.query("SELECT pg_advisory_unlock_all()");
      const freed = await waitFor(async () => (await outsider.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1", [key])).rows[0].n, (n) => n === 0, 2000);
      if (freed !== 0) await bouncer.admin("RECONNECT tx"); // drop PgBouncer's server connections, and the lock with them
    });

    it("session mode: the same lock and unlock work", async () => {
      const s = await client("session");
      await s.query("SELECT pg_advisory_lock($1)", [key + 1]);
      const unlocked = await onAnotherServerConnection("session", async () => (await s.query("SELECT pg_advisory_unlock($1) AS ok", [key + 1])).rows[0].ok);
      expect(unlocked).toBe(true);
    });

    it("pooler: \"transaction\": one warning for pg_advisory_lock; pg_advisory_xact_lock in a transaction says nothing", async () => {
      const { database, warnings } = packageDatabase({ pooler: "transaction" });
      await database.transaction((tx) => tx.query("SELECT pg_advisory_xact_lock($1)", [key + 2]));
      expect(warnings()).toEqual([]);
      const { db } = await database.connect();
      await db.query("SELECT pg_try_advisory_lock($1)", [key + 3]);
      await db.query("SELECT pg_advisory_unlock_all()");
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/session-level advisory lock.*pg_advisory_xact_lock/);
    });
  });

  describe("LISTEN", () => {
    /**
     * LISTEN, then another client takes the listener's server connection in a
     * transaction while a NOTIFY is sent: who gets the notification?
     */
    async function whoHearsIt(database: "tx" | "session"): Promise<{ listener: string[]; other: string[] }> {
      const heard = { listener: [] as string[], other: [] as string[] };
      const listener = await client(database);
      listener.on("notification", (n) => heard.listener.push(String(n.payload)));
      const channel = `ndc_chan_${process.pid}_${database}`;
      await listener.query(`LISTEN ${channel}`);
      const other = await client(database);
      other.on("notification", (n) => heard.other.push(String(n.payload)));
      await other.query("BEGIN");
      await other.query("SELECT 1");
      const notifier = await client("direct");
      await notifier.query(`NOTIFY ${channel}, 'hello'`);
      // A notification reaches a client with its next exchange at the latest.
      for (let i = 0; i < 10 && heard.listener.length + heard.other.length === 0; i++) {
        await Promise.all([listener.query("SELECT 1"), other.query("SELECT 1")]);
        await sleep(50);
      }
      await other.query("COMMIT");
      await listener.query(`UNLISTEN ${channel}`);
      return heard;
    }

    it("plain node-postgres: LISTEN is accepted, and the notification goes to whichever client holds that server connection; session mode: to the listener", async () => {
      expect(await whoHearsIt("tx")).toEqual({ listener: [], other: ["hello"] });
      expect(await whoHearsIt("session")).toEqual({ listener: ["hello"], other: [] });
    });

    it("pooler: \"transaction\": LISTEN is refused with an error saying why; the database stays connected", async () => {
      const { database } = packageDatabase({ pooler: "transaction" });
      const { db } = await database.connect();
      const err = await (db as pg.Pool).query("LISTEN ndc_chan").then(() => null, (e: Error & { code?: string }) => e);
      expect(err).toMatchObject({ name: "TransactionPoolerError", code: "NDC_TRANSACTION_POOLER" });
      expect(err!.message).toMatch(/LISTEN cannot work through a transaction-mode pooler.*connection of its own straight to the server/);
      // The callback form gets it too.
      const viaCallback = await new Promise<Error | null>((resolve) => (db as pg.Pool).query("listen ndc_chan", (e: Error | null) => resolve(e)));
      expect(viaCallback?.name).toBe("TransactionPoolerError");
      expect(database.stats().state).toBe("connected");
      // Session mode declared: LISTEN goes through.
      const session = packageDatabase({ pooler: "session", database: "session" });
      const { db: sessionDb } = await session.database.connect();
      await expect((sessionDb as pg.Pool).query("LISTEN ndc_chan")).resolves.toBeDefined();
    });
  });
});

describe.skipIf(!lookup.found)("PgBouncer's own limits are saturation, not an outage", () => {
  let bouncer: Pgbouncer;
  let web: TestServer | undefined;
  const held: pg.Client[] = [];

  beforeAll(async () => {
    const server = new URL(await postgresUrl());
    bouncer = await startPgbouncer({
      binary: (lookup as { path: string }).path,
      server: { host: server.hostname, port: Number(server.port || 5432) },
      databases: { tx: { dbname: server.pathname.slice(1), poolMode: "transaction" } },
      users: [{ name: decodeURIComponent(server.username || "postgres"), password: decodeURIComponent(server.password) }],
      authType: "trust",
      poolSize: 1,
      maxClientConn: 2,
      queryWaitTimeout: 1,
    });
  });
  afterAll(async () => {
    for (const c of held) await c.end().catch(() => {});
    await web?.close();
    await bouncer?.stop();
  });

  async function hold(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: bouncer.url("tx") });
    c.on("error", () => {});
    await c.connect();
    held.push(c);
    return c;
  }

  it("query_wait_timeout and max_client_conn come as 08P01 (the code of a broken connection); the package answers 503 saturated and keeps the database up", async () => {
    const name = uniqueName("ndc_pgb_limits");
    const database = createDatabase(pgAdapter({ connectionString: bouncer.url("tx"), max: 1, application_name: name }), { name, logger: false, connectionBudget: false });
    const GET = database.route(async (_req: Request, { db }: { db: pg.Pool }) => Response.json((await db.query("SELECT 1 AS one")).rows[0]));
    web = await serveWeb((req) => GET(req, { params: Promise.resolve({}) }));
    expect((await fetch(web.url)).status).toBe(200);

    // The one server connection held in a transaction: the package's query waits in PgBouncer's queue.
    const holder = await hold();
    await holder.query("BEGIN");
    await holder.query("SELECT 1");
    const waited = await fetch(web.url);
    const waitedBody = await waited.json();
    expect(waited.status).toBe(503);
    expect(waited.headers.get("retry-after")).toBe("1");
    expect(waitedBody.reason).toBe("saturated");
    expect(database.stats().state).not.toBe("unavailable");
    await holder.query("COMMIT");

    // PgBouncer's client slots taken (2: the holder and one more); the package's pool lost its connection to the timeout above.
    await hold();
    const raw = await new pg.Client({ connectionString: bouncer.url("tx") }).connect().then(() => null, (e: { code?: string; message: string }) => e);
    expect(raw).toMatchObject({ code: "08P01", message: "no more connections allowed (max_client_conn)" });
    const refused = await fetch(web.url);
    expect(refused.status).toBe(503);
    expect((await refused.json()).reason).toBe("saturated");
    expect(database.stats()).toMatchObject({ state: "connected", failures: 0 });

    // Room again: the next request is served, no cooldown in between.
    await held.pop()!.end();
    expect((await fetch(web.url)).status).toBe(200);
    await database.close();
  });
});
