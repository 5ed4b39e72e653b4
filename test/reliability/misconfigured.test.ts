/**
 * Scenario 18, a configuration the server rejects is its own kind of failure.
 *
 * Servers that check what they are told: a private PostgreSQL whose
 * pg_hba.conf says `scram-sha-256` (the shared one trusts everyone), a private
 * MariaDB, the MongoDB wire server started with a SCRAM user. Five mistakes:
 * wrong password (28P01, 1045, code 18) and unknown database (3D000, 1049).
 *
 * Guarantee, through every router style at once (test/support/router-styles.ts):
 * - each request gets the app's own error path with a `DatabaseConfigError`
 *   whose `setting` says what was rejected (`credentials` / `database`), never
 *   a 503 "temporarily unavailable";
 * - the server sees at most one attempt per `retry.maxCooldownMs` (counted on
 *   the server: its log, `Aborted_connects`, the wire server's refused `saslContinue`);
 * - one log line per attempt, naming the setting, never the secret;
 * - fixed on the server (ALTER ROLE / ALTER USER / CREATE DATABASE / the user's
 *   password), the first attempt after the hold succeeds, without a restart.
 *
 * Control in the same run: a plain pool behind a hand-written middleware
 * answers 500 and makes the server see one attempt per request.
 */
import nextConnectV0 from "next-connect-v0";
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pgDriver from "pg";
import { readFile, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, DatabaseConfigError } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { serveNode } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import { MongoWireServer } from "../support/mongo-wire/index.js";
import { startPrivateMariadb, type PrivateMariadb } from "../support/private-mariadb.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { requestLoops } from "../support/request-loops.js";
import { get, ROUTER_STYLES, serveRouterStyles, type Answer } from "../support/router-styles.js";
import { sleep } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/misconfigured.test.ts";
/** The hold between attempts (`retry.maxCooldownMs`), and how long the requests keep coming. */
const HOLD_MS = 1000;
const WINDOW_MS = 3000;
/** The configured (wrong) passwords: secrets that must never be shown. */
const PG_SECRET = "pg-Wrong-Secret-7c1d";
const MY_SECRET = "my-Wrong-Secret-42ab";
const MONGO_SECRET = "mongo-Wrong-Secret-9e0f";

let pgServer: PrivatePostgres;
let pgAdmin: pgDriver.Pool;
let mariadb: PrivateMariadb;
let myAdmin: mysql.Pool;
let mongo: MongoWireServer;
/** Logins refused by wire servers already replaced. */
let mongoRefusedBefore = 0;

beforeAll(async () => {
  [pgServer, mariadb] = await Promise.all([startPrivatePostgres(), startPrivateMariadb()]);
  // A server that checks passwords: SCRAM for every TCP login.
  const hba = join(pgServer.dataDir, "pg_hba.conf");
  await writeFile(hba, (await readFile(hba, "utf8")).replace(/\b(password|trust|md5)\s*$/gm, "scram-sha-256"));
  pgAdmin = new pgDriver.Pool({ connectionString: pgServer.url, max: 2, application_name: "ndc_misconfigured_admin" });
  pgAdmin.on("error", () => {});
  await pgAdmin.query("SELECT pg_reload_conf()");
  await pgAdmin.query("CREATE ROLE ndc_app_pw LOGIN PASSWORD 'the-right-one'");
  await pgAdmin.query("CREATE ROLE ndc_app_db LOGIN PASSWORD 'db-role-password'");
  myAdmin = mysql.createPool({ uri: mariadb.url.replace(/\/test$/, "/"), connectionLimit: 2 });
  for (const host of ["%", "localhost"]) {
    await myAdmin.query("CREATE USER ?@? IDENTIFIED BY 'the-right-one'", ["ndc_app_pw", host]);
    await myAdmin.query("GRANT ALL ON test.* TO ?@?", ["ndc_app_pw", host]);
    await myAdmin.query("CREATE USER ?@? IDENTIFIED BY 'db-user-password'", ["ndc_app_db", host]);
    await myAdmin.query("GRANT ALL ON *.* TO ?@?", ["ndc_app_db", host]);
  }
  mongo = new MongoWireServer({ users: [{ user: "ndc_app", password: "the-right-one" }] });
  await mongo.start();
}, 120_000);

afterAll(async () => {
  await pgAdmin?.end();
  await myAdmin?.end();
  await mongo?.stop();
  await Promise.all([pgServer?.destroy(), mariadb?.destroy()]);
});

async function pgRefusals(pattern: string): Promise<number> {
  const text = await readFile(pgServer.logFile, "utf8");
  return text.split("\n").filter((line) => line.includes("FATAL") && line.includes(pattern)).length;
}

async function mariadbAbortedConnects(): Promise<number> {
  const [rows] = await myAdmin.query("SHOW GLOBAL STATUS LIKE 'Aborted_connects'");
  return Number((rows as Array<{ Value: string }>)[0]!.Value);
}

interface Case {
  id: string;
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  mistake: string;
  setting: "credentials" | "database";
  secret: string;
  adapter(): ReturnType<typeof pg> | ReturnType<typeof mysql2> | ReturnType<typeof mongodb>;
  query(db: any): Promise<unknown>;
  /** CONTROL: the driver's own pool with the same configuration. */
  naive(): { db: any; close(): Promise<void> };
  /** Connection attempts the server refused so far (never asks the code under test). */
  attempts(): Promise<number>;
  fix(): Promise<void>;
}

const cases: Case[] = [
  {
    id: "pg-password", label: "PostgreSQL", mistake: "wrong password (28P01)", setting: "credentials", secret: PG_SECRET,
    adapter: () => pg({ connectionString: pgUrl("ndc_app_pw", PG_SECRET, "postgres"), application_name: "ndc_misconfigured" }),
    query: (db) => db.query("SELECT 1"),
    naive() {
      const pool = new pgDriver.Pool({ connectionString: pgUrl("ndc_app_pw", PG_SECRET, "postgres") });
      pool.on("error", () => {});
      return { db: pool, close: () => pool.end() };
    },
    attempts: () => pgRefusals('password authentication failed for user "ndc_app_pw"'),
    fix: async () => void (await pgAdmin.query(`ALTER ROLE ndc_app_pw PASSWORD '${PG_SECRET}'`)),
  },
  {
    id: "pg-database", label: "PostgreSQL", mistake: "unknown database (3D000)", setting: "database", secret: "db-role-password",
    adapter: () => pg({ connectionString: pgUrl("ndc_app_db", "db-role-password", "ndc_not_yet"), application_name: "ndc_misconfigured" }),
    query: (db) => db.query("SELECT 1"),
    naive() {
      const pool = new pgDriver.Pool({ connectionString: pgUrl("ndc_app_db", "db-role-password", "ndc_not_yet") });
      pool.on("error", () => {});
      return { db: pool, close: () => pool.end() };
    },
    attempts: () => pgRefusals('database "ndc_not_yet" does not exist'),
    fix: async () => void (await pgAdmin.query("CREATE DATABASE ndc_not_yet")),
  },
  {
    id: "mysql2-password", label: "MariaDB", mistake: "wrong password (1045)", setting: "credentials", secret: MY_SECRET,
    adapter: () => mysql2({ uri: myUrl("ndc_app_pw", MY_SECRET, "test") }),
    query: (db) => db.query("SELECT 1"),
    naive() {
      const pool = mysql.createPool({ uri: myUrl("ndc_app_pw", MY_SECRET, "test") });
      return { db: pool, close: () => pool.end() };
    },
    attempts: mariadbAbortedConnects,
    async fix() {
      for (const host of ["%", "localhost"]) await myAdmin.query(`ALTER USER ?@? IDENTIFIED BY '${MY_SECRET}'`, ["ndc_app_pw", host]);
    },
  },
  {
    id: "mysql2-database", label: "MariaDB", mistake: "unknown database (1049)", setting: "database", secret: "db-user-password",
    adapter: () => mysql2({ uri: myUrl("ndc_app_db", "db-user-password", "ndc_not_yet") }),
    query: (db) => db.query("SELECT 1"),
    naive() {
      const pool = mysql.createPool({ uri: myUrl("ndc_app_db", "db-user-password", "ndc_not_yet") });
      return { db: pool, close: () => pool.end() };
    },
    attempts: mariadbAbortedConnects,
    fix: async () => void (await myAdmin.query("CREATE DATABASE ndc_not_yet")),
  },
  {
    id: "mongodb-password", label: "MongoDB (wire server)", mistake: "wrong password (code 18)", setting: "credentials", secret: MONGO_SECRET,
    adapter: () => mongodb({ url: mongoUrl(MONGO_SECRET), serverSelectionTimeoutMS: 2000 }),
    query: (db) => db.command({ ping: 1 }),
    naive() {
      const client = new MongoClient(mongoUrl(MONGO_SECRET), { serverSelectionTimeoutMS: 2000 });
      return { db: client.db("ndc_misconfigured"), close: () => client.close() };
    },
    attempts: async () => mongoRefusedBefore + mongo.failedCommandCount("saslContinue"),
    async fix() {
      // The user's password is changed on the server: the same port, the user now has the configured password.
      mongoRefusedBefore += mongo.failedCommandCount("saslContinue");
      const port = mongo.port;
      await mongo.stop();
      mongo = new MongoWireServer({ port, users: [{ user: "ndc_app", password: MONGO_SECRET }] });
      await mongo.start();
    },
  },
];

function pgUrl(user: string, password: string, database: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${pgServer.port}/${database}`;
}
function myUrl(user: string, password: string, database: string): string {
  return `mysql://${user}:${encodeURIComponent(password)}@127.0.0.1:${mariadb.port}/${database}`;
}
function mongoUrl(password: string): string {
  return `mongodb://ndc_app:${encodeURIComponent(password)}@127.0.0.1:${mongo.port}/ndc_misconfigured?authSource=admin`;
}

/** The hand-written middleware: the driver's pool cached once, `req.db` from it, next-connect v0. */
async function controlRun(c: Case, requests: number) {
  const naive = c.naive();
  type Req = IncomingMessage & { db: any };
  const handler = nextConnectV0<Req, ServerResponse>()
    .use((req: Req, _res: ServerResponse, next: () => void) => {
      req.db = naive.db;
      next();
    })
    .all(async (req: Req, res: ServerResponse) => {
      await c.query(req.db);
      res.end("ok");
    });
  const server = await serveNode(handler as never);
  const before = await c.attempts();
  const statuses: Array<number | string> = [];
  try {
    for (let i = 0; i < requests; i++) statuses.push((await get(`${server.url}/q`)).status);
    await sleep(200); // the last refusal reaches the server's log
    return { statuses, attempts: (await c.attempts()) - before };
  } finally {
    await server.close();
    await naive.close().catch(() => {});
  }
}

describe.each(cases)("misconfigured: $label, $mistake", (c) => {
  it("the app's error path gets a DatabaseConfigError naming the setting, never a 503; one attempt per hold, one log line each, no secret; fixed on the server, the next attempt after the hold succeeds", async () => {
    const control = await controlRun(c, 5);

    const log = captureLogger();
    const database = createDatabase(c.adapter(), {
      name: `ndc_misconfigured_${c.id}`, logger: log, retry: { cooldownMs: 200, maxCooldownMs: HOLD_MS },
    });
    const styles = await serveRouterStyles(database, ({ db }) => c.query(db));
    const before = await c.attempts();
    let answers: Answer[];
    let duringStats;
    let fixedAt = 0;
    let firstOk: Answer | undefined;
    let attemptsAfterFix = 0;
    try {
      const loops = requestLoops(ROUTER_STYLES.map((style) => ({ label: style, url: styles.url(style) })), 1);
      await sleep(WINDOW_MS);
      answers = await loops.stop();
      duringStats = database.stats();
      await sleep(100);
      const attempts = (await c.attempts()) - before;

      await c.fix();
      const fixedAttempts = await c.attempts();
      fixedAt = Date.now();
      for (let i = 0; i < 100 && !firstOk; i++) {
        const answer = await get(styles.url(ROUTER_STYLES[i % ROUTER_STYLES.length]!));
        if (answer.status === 200) firstOk = answer;
        else await sleep(50);
      }
      attemptsAfterFix = (await c.attempts()) - fixedAttempts;
      const finalStats = database.stats();
      // The lifecycle's own lines (database.onError, the app's error handler under v0, also logs each failed request).
      const rejectedLines = log.lines.filter((l) => /rejected the connection/.test(l) && !/ failed: /.test(l));
      if (process.env.NDC_DEBUG) console.log(log.text());
      const texts = [...answers.map((a) => a.body), ...log.lines, JSON.stringify(duringStats), JSON.stringify(finalStats)];
      const byStatus = countStatuses(answers.map((a) => a.status));
      const okAfterMs = firstOk ? firstOk.startedAt + firstOk.ms - fixedAt : null;

      recordFigures(`18-misconfigured-${c.id}`, {
        scenario: "18. Misconfigured",
        database: c.label,
        load: `1 client per router style (${ROUTER_STYLES.length} styles) for ${WINDOW_MS / 1000} s; retry.maxCooldownMs ${HOLD_MS}`,
        faults: `${c.mistake}, then fixed on the server`,
        requests: answers.length,
        statuses: byStatus,
        crashes: 0,
        unhandledRejections: 0,
        maxLatencyMs: Math.round(Math.max(...answers.map((a) => a.ms))),
        recoveryMs: okAfterMs === null ? null : Math.round(okAfterMs),
        leaks: null,
        notes:
          `${attempts} attempts seen by the server in ${WINDOW_MS / 1000} s (hold ${HOLD_MS / 1000} s), ${rejectedLines.length} log lines; ` +
          `every request: the app's error path with DatabaseConfigError setting "${c.setting}"; stats: state ${duringStats.state}, lastError.kind ${duringStats.lastError?.kind}; ` +
          `after the fix: first 200 after ${okAfterMs === null ? "never" : Math.round(okAfterMs)} ms, ${attemptsAfterFix} refused attempts, connects ${finalStats.connects}. ` +
          `Control (plain pool, hand-written middleware): ${JSON.stringify(countStatuses(control.statuses))}, ${control.attempts} attempts for ${control.statuses.length} requests.`,
        command: COMMAND,
      });

      // Control: one attempt per request, each a 500.
      expect(control.statuses.every((s) => s === 500)).toBe(true);
      expect(control.attempts).toBeGreaterThanOrEqual(control.statuses.length);

      // Never a 503: the app's error path, told what was rejected.
      expect(answers.length).toBeGreaterThan(ROUTER_STYLES.length);
      for (const a of answers) {
        const where = `${a.status} ${a.body}`;
        expect(a.status, where).toBe(500);
        expect(a.retryAfter, where).toBeNull();
        expect(a.body, where).not.toMatch(/database_unavailable|temporarily unavailable/);
        if (a.body.startsWith('{"app"')) expect(JSON.parse(a.body), where).toMatchObject({ name: "DatabaseConfigError", setting: c.setting });
      }
      // Every style's own handler got the config error (v0's default onError shows its message, database.onError a plain 500).
      for (const style of ["v1", "express-onError", "express-plain", "api", "route", "edge"]) {
        expect(answers.some((a) => a.body.includes('"DatabaseConfigError"')), style).toBe(true);
      }
      expect(duringStats.state).toBe("misconfigured");
      expect(duringStats.lastError?.kind).toBe("misconfigured");

      // At most one attempt per hold (plus the first), and the server saw them.
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(Math.ceil(WINDOW_MS / HOLD_MS) + 1);
      // One line per attempt, naming the setting.
      expect(rejectedLines.length).toBe(attempts);
      for (const line of rejectedLines) expect(line).toContain(c.setting);
      for (const text of texts) expect(text).not.toContain(c.secret);

      // Fixed on the server: the first attempt after the hold succeeds, no restart, no refused attempt.
      expect(firstOk, "never recovered").toBeDefined();
      expect(okAfterMs!).toBeLessThanOrEqual(HOLD_MS + 2000);
      expect(attemptsAfterFix).toBe(0);
      expect(finalStats.state).toBe("connected");
      expect(finalStats.connects).toBe(1);
    } finally {
      await styles.close();
      await database.close();
    }
  }, 60_000);
});

describe("misconfigured before any attempt: a pg password function with a connectionString", () => {
  it("is a DatabaseConfigError naming password, with no attempt on the server; control: node-postgres takes the URL's empty password, fails, and never calls the function", async () => {
    let calls = 0;
    const getToken = async () => {
      calls++;
      return "the-right-one";
    };
    const config = { connectionString: pgUrl("ndc_app_pw", "", "postgres").replace(":@", "@"), password: getToken };
    const before = await pgRefusals('user "ndc_app_pw"');
    const database = createDatabase(pg(config), { name: "ndc_misconfigured_pw_fn", logger: false });
    const refused = await database.connect().catch((err: unknown) => err);
    await sleep(200);
    const ours = (await pgRefusals('user "ndc_app_pw"')) - before;

    // CONTROL: the same options straight to node-postgres.
    const pool = new pgDriver.Pool(config);
    pool.on("error", () => {});
    const driverError = await pool.query("SELECT 1").catch((err: unknown) => err);
    await pool.end();
    await sleep(200);
    const driverAttempts = (await pgRefusals('user "ndc_app_pw"')) - before - ours;
    recordFigures("18-misconfigured-pg-password-function-with-url", {
      scenario: "18. Misconfigured",
      database: "PostgreSQL",
      load: "one connect",
      faults: "pg password: async () => token, together with connectionString (no password in it)",
      requests: 1,
      statuses: { DatabaseConfigError: 1 },
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: null,
      notes: `ours: DatabaseConfigError setting "${(refused as DatabaseConfigError).setting}", ${ours} attempts on the server. Control (node-postgres alone): "${(driverError as Error).message}" (${(driverError as { code?: string }).code}), the function called ${calls} times, ${driverAttempts} attempts refused by the server.`,
      command: COMMAND,
    });
    expect(refused).toBeInstanceOf(DatabaseConfigError);
    expect((refused as DatabaseConfigError).setting).toBe("password");
    expect((refused as Error).message).toMatch(/host, port, user and database instead of connectionString/);
    expect(ours).toBe(0);
    // Control: the driver fails every connect, and the function never ran.
    expect(driverError).toBeInstanceOf(Error);
    expect(calls).toBe(0);
  });
});

