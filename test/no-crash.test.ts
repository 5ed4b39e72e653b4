/**
 * Contract 3, no crash: with the pool connected and idle (or a client checked
 * out between two queries), the server ends our connections: pg
 * `pg_terminate_backend`, MariaDB `KILL`, the wire server dropping every
 * socket. No uncaughtException / unhandledRejection, an error is logged, and
 * the next query succeeds.
 *
 * Controls run in a child process (a crash there is the expected outcome): a
 * bare `new pg.Pool()` without an 'error' listener dies when its idle backend
 * is terminated, and so does a client checked out with `pool.connect()`. The
 * same script on this package (built from the current sources) survives.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { buildPackage, projectRoot, type Build } from "./support/build.js";
import { captureLogger } from "./support/logger.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, killMysqlConnections, mysqlAdminQuery } from "./support/mysql.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, terminatePgBackends, uniqueName } from "./support/postgres.js";
import { queuedCallbacksRun, waitFor } from "./support/wait.js";

// Anything fatal that escapes while a test runs ends up here.
const escaped: Array<{ kind: string; error: unknown }> = [];
const onUncaught = (error: unknown) => escaped.push({ kind: "uncaughtException", error });
const onUnhandled = (error: unknown) => escaped.push({ kind: "unhandledRejection", error });
beforeEach(() => {
  escaped.length = 0;
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUnhandled);
});
afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

/**
 * Before asserting that nothing escaped: the fault's last events have
 * happened (the caller waited for them: log lines, pool and server counts),
 * and the callbacks they queued have run.
 */
const settle = queuedCallbacksRun;

describe("pg", () => {
  let url: string;
  beforeAll(async () => {
    url = await postgresUrl();
  });

  it("idle connections terminated by the server: logged, discarded, the database is not taken for down, next query succeeds", async () => {
    const app = uniqueName("ndc_nocrash_pg");
    const logger = captureLogger();
    const database = createDatabase(pg({ connectionString: url, application_name: app, max: 3 }), { name: app, logger, retry: { cooldownMs: 200 } });
    const pids = async () => (await adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app])).map((r) => r.pid);
    try {
      const { db } = await database.connect();
      // Three connections, all idle again afterwards.
      await Promise.all([1, 2, 3].map(() => db.query("SELECT pg_sleep(0.05)")));
      const killed = await pids();
      expect(killed).toHaveLength(3);
      expect(await terminatePgBackends(app)).toBe(3);
      // The fault is over once the server has ended all three and the package, having noticed,
      // has settled its one probe (which must not read the other dead pooled connections as an outage).
      expect(await waitFor(async () => (await pids()).filter((p) => killed.includes(p)).length, (n) => n === 0)).toBe(0);
      await waitFor(() => logger.text(), (t) => t.includes("may be unreachable (57P01"));
      expect(await waitFor(() => database.stats().state, (s) => s !== "checking")).toBe("connected");
      await settle();
      expect(escaped).toEqual([]);
      expect(logger.lines.filter((l) => l.startsWith("error") && l.includes("an idle connection failed (57P01")).length).toBeGreaterThan(0);
      // Each dead idle connection is one line: none of them was checked out.
      expect(logger.text()).not.toMatch(/failed while checked out/);
      expect(logger.text()).not.toMatch(/still unreachable/);
      const { rows } = await db.query("SELECT 42 AS answer");
      expect(rows[0].answer).toBe(42);
      // Discarded: none of the terminated backends is in use any more, and the pool holds what it needs.
      const now = await pids();
      expect(now.filter((p) => killed.includes(p))).toEqual([]);
      expect(now.length).toBeGreaterThanOrEqual(1);
      expect(now.length).toBeLessThanOrEqual(3);
    } finally {
      await database.close();
    }
  });

  it("a checked-out client terminated between two queries: logged, no crash, the next query succeeds", async () => {
    const app = uniqueName("ndc_nocrash_pgco");
    const logger = captureLogger();
    const database = createDatabase(pg({ connectionString: url, application_name: app, max: 2 }), { name: app, logger });
    try {
      const { db } = await database.connect();
      const client = await db.connect();
      await client.query("SELECT 1");
      const killed = (await adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app])).map((r) => r.pid);
      expect(await terminatePgBackends(app)).toBeGreaterThanOrEqual(1);
      await waitFor(() => logger.text(), (t) => t.includes("failed while checked out"));
      // The killed backends are gone (the package's probe may already have opened a new one).
      const alive = async () => (await adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app])).filter((r) => killed.includes(r.pid)).length;
      expect(await waitFor(alive, (n) => n === 0)).toBe(0);
      await settle();
      expect(escaped).toEqual([]);
      // The dead client fails its next query (it cannot do otherwise) ...
      await expect(client.query("SELECT 1")).rejects.toThrow();
      client.release();
      // ... and the pool hands out a fresh connection.
      const { rows } = await db.query("SELECT 42 AS answer");
      expect(rows[0].answer).toBe(42);
      await settle();
      expect(escaped).toEqual([]);
    } finally {
      await database.close();
    }
  });

  describe("in a child process", () => {
    let built: Build;
    beforeAll(async () => {
      built = await buildPackage();
    });
    afterAll(async () => {
      await built?.remove();
    });

    function child(mode: "bare" | "ours", where: "idle" | "checkout") {
      const app = uniqueName(`ndc_child_${mode}_${where}`);
      const script = join(projectRoot, "test", "fixtures", "no-crash-child.mjs");
      return new Promise<{ code: number | null; stdout: string; stderr: string; app: string }>((resolve, reject) => {
        const p = spawn(process.execPath, [script, mode, where, url, app, built.esm("index"), built.esm("pg")], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (c) => (stdout += c));
        p.stderr.on("data", (c) => (stderr += c));
        const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
        p.on("error", reject);
        p.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr, app });
        });
      });
    }

    it("control: a bare pg.Pool without an 'error' listener crashes when its idle backend is terminated", async () => {
      const r = await child("bare", "idle");
      expect(r.stdout).toContain("TERMINATING");
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain("SURVIVED");
      expect(r.stderr).toMatch(/Unhandled 'error' event/);
      expect(r.stderr).toMatch(/terminating connection due to administrator command|Connection terminated/);
      expect(await pgConnectionCount(r.app)).toBe(0);
    });

    it("control: a bare client checked out with pool.connect() crashes when its backend is terminated between queries", async () => {
      const r = await child("bare", "checkout");
      expect(r.stdout).toContain("TERMINATING");
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain("SURVIVED");
      expect(r.stderr).toMatch(/Unhandled 'error' event/);
      expect(r.stderr).toMatch(/terminating connection due to administrator command|Connection terminated/);
    });

    it("the same script on next-db-connect survives both, logs the error, and queries again", async () => {
      for (const where of ["idle", "checkout"] as const) {
        const r = await child("ours", where);
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain("TERMINATED 1");
        expect(r.stdout).toContain("SURVIVED 42");
        expect(r.stdout).toMatch(/LOGGED .*57P01/);
        expect(r.code).toBe(0);
        expect(await pgConnectionCount(r.app)).toBe(0); // close() ended the pool
      }
    });
  });
});

describe("mysql2", () => {
  it("pooled connections killed by the server: logged, discarded, the database is not taken for down, next query succeeds", async () => {
    const user = await createMysqlUser("ndc_nocrash");
    const logger = captureLogger();
    const database = createDatabase(mysql2({ uri: user.url, connectionLimit: 3 }), { name: uniqueName("nocrash_mysql"), logger, retry: { cooldownMs: 200 } });
    const ids = async () => ((await mysqlAdminQuery("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user.user])) as Array<{ id: number }>).map((r) => Number(r.id));
    try {
      const { db } = await database.connect();
      await Promise.all([1, 2, 3].map(() => db.query("SELECT SLEEP(0.05)")));
      const killed = await ids();
      expect(killed).toHaveLength(3);
      expect(await killMysqlConnections(user.user)).toBe(3);
      // Over once the server has ended all three and the package's one probe has settled.
      expect(await waitFor(async () => (await ids()).filter((id) => killed.includes(id)).length, (n) => n === 0)).toBe(0);
      await waitFor(() => logger.text(), (t) => t.includes("may be unreachable"));
      expect(await waitFor(() => database.stats().state, (s) => s !== "checking")).toBe("connected");
      await settle();
      expect(escaped).toEqual([]);
      expect(logger.text()).toMatch(/a pooled connection failed \(PROTOCOL_CONNECTION_LOST/);
      expect(logger.text()).not.toMatch(/still unreachable/);
      for (let i = 0; i < 5; i++) {
        const [rows] = await db.query("SELECT 42 AS answer");
        expect((rows as Array<{ answer: number }>)[0]!.answer).toBe(42);
      }
      const now = await ids();
      expect(now.filter((id) => killed.includes(id))).toEqual([]);
      expect(now.length).toBeGreaterThanOrEqual(1);
      expect(now.length).toBeLessThanOrEqual(3);
    } finally {
      await database.close();
      await user.drop();
    }
  });

  it("a checked-out connection killed between two queries: no crash, the next query succeeds", async () => {
    const user = await createMysqlUser("ndc_nocrash_co");
    const logger = captureLogger();
    const database = createDatabase(mysql2({ uri: user.url, connectionLimit: 2 }), { name: uniqueName("nocrash_mysqlco"), logger });
    try {
      const { db } = await database.connect();
      const conn = await db.getConnection();
      await conn.query("SELECT 1");
      const ids = async () => ((await mysqlAdminQuery("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user.user])) as Array<{ id: number }>).map((r) => Number(r.id));
      const killed = await ids();
      expect(await killMysqlConnections(user.user)).toBeGreaterThanOrEqual(1);
      await waitFor(() => logger.text(), (t) => t.includes("a pooled connection failed"));
      // The killed threads are gone (the package's probe may already have opened a new one).
      expect(await waitFor(async () => (await ids()).filter((id) => killed.includes(id)).length, (n) => n === 0)).toBe(0);
      await settle();
      expect(escaped).toEqual([]);
      await expect(conn.query("SELECT 1")).rejects.toThrow();
      conn.release();
      const [rows] = await db.query("SELECT 42 AS answer");
      expect((rows as Array<{ answer: number }>)[0]!.answer).toBe(42);
      await settle();
      expect(escaped).toEqual([]);
    } finally {
      await database.close();
      await user.drop();
    }
  });
});

describe.skipIf(needsWireServer("killAllConnections() (no-crash: every socket dropped by the server)"))("mongodb", () => {
  it("every socket dropped by the server: logged, no crash, next query succeeds", async () => {
    const { server, uri } = await wireServerTarget();
    const logger = captureLogger();
    const database = createDatabase(
      mongodb({ url: `${uri}/ndc_nocrash`, maxPoolSize: 3, serverSelectionTimeoutMS: 2000, heartbeatFrequencyMS: 500 }),
      { name: uniqueName("nocrash_mongo"), logger, retry: { cooldownMs: 200 } },
    );
    try {
      const { db } = await database.connect();
      await db.collection("items").insertOne({ n: 1 });
      await Promise.all([1, 2, 3].map(() => db.collection("items").findOne({})));
      expect(server.connectionCount).toBeGreaterThanOrEqual(2); // pool + monitor
      const accepted = server.totalAccepted;
      expect(server.killAllConnections()).toBeGreaterThanOrEqual(2);
      // The driver reconnects by itself and emits no 'error'; the adapter logs the loss. The fault
      // is over once it is logged and the driver's monitor has opened a new socket.
      await waitFor(() => logger.text(), (t) => /a pooled connection failed/.test(t), 3000);
      expect(await waitFor(() => server.totalAccepted, (n) => n > accepted, 5000)).toBeGreaterThan(accepted);
      await settle();
      expect(escaped).toEqual([]);
      expect(logger.lines.filter((l) => l.startsWith("warn") && l.includes("a pooled connection failed")).length).toBeGreaterThanOrEqual(1);
      const doc = await db.collection("items").findOne({ n: 1 });
      expect(doc).toMatchObject({ n: 1 });
      expect(server.connectionCount).toBeGreaterThanOrEqual(1);
    } finally {
      await database.close();
      await server.stop();
    }
  });
});
