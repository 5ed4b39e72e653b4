/**
 * Scenario 8, connection budget. At connect the package reads the server's
 * limits and usage, and warns once when this pool at its max would take
 * usage past 80% of the tightest limit. The limits are lowered for a test
 * role, a test database and a test MariaDB account only, never globally.
 *
 * Controls: the same limits with a small pool give no warning;
 * `connectionBudget: false` gives none; a check that hangs or is refused
 * neither fails nor holds up the connect.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, defineAdapter } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg as pgAdapter } from "../../src/adapters/pg.js";
import { pgBudget } from "../../src/adapters/pg-budget.js";
import { recordFigures } from "../support/figures.js";
import { captureLogger } from "../support/logger.js";
import { MONGO_LABEL, mongoTarget } from "../support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlAdminQuery, type MysqlTestUser } from "../support/mysql.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/connection-budget.test.ts";
const PASSWORD = "budget-Secret-pw-7";

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

function budgetWarnings(log: ReturnType<typeof captureLogger>): string[] {
  return log.lines.filter((l) => l.startsWith("warn") && l.includes("connection budget:"));
}

async function connectAndClose(database: { connect(): Promise<unknown>; close(): Promise<void> }): Promise<number> {
  const started = performance.now();
  try {
    await database.connect();
    return performance.now() - started;
  } finally {
    await database.close();
  }
}

describe("PostgreSQL", () => {
  const role = uniqueName("ndc_budget_role").toLowerCase();
  const dbName = uniqueName("ndc_budget_db").toLowerCase();
  let roleUrl: string;
  let dbUrl: string;
  const notes: string[] = [];

  beforeAll(async () => {
    const base = new URL(await postgresUrl());
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}' CONNECTION LIMIT 5`);
    await adminQuery(`CREATE DATABASE ${dbName}`);
    await adminQuery(`ALTER DATABASE ${dbName} CONNECTION LIMIT 4`);
    const r = new URL(base);
    r.username = role;
    r.password = PASSWORD;
    roleUrl = r.toString();
    const d = new URL(base);
    d.pathname = `/${dbName}`;
    dbUrl = d.toString();
  });
  afterAll(async () => {
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 OR datname = $2`, [role, dbName]);
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName}`);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    recordFigures("8-budget-pg", {
      scenario: "8. Connection budget",
      database: "PostgreSQL",
      load: "one connect per case",
      faults: `role CONNECTION LIMIT 5, database CONNECTION LIMIT 4 (test role and database only)`,
      requests: 5,
      statuses: {},
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: null,
      notes: notes.join("; "),
      command: COMMAND,
    });
  });

  it("warns once, naming the role's limit, when max would reach 5 of 5; no secret in the line", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg");
    const database = createDatabase(pgAdapter({ connectionString: roleUrl, max: 5, application_name: app }), { name: app, logger: log });
    try {
      await database.connect();
      // The check ran on the connection the connect opened: one, not two.
      expect(await pgConnectionCount(app)).toBe(1);
      await database.connect();
    } finally {
      await database.close();
    }
    const warnings = budgetWarnings(log);
    notes.push(`max 5 under the role's limit 5: ${warnings.length} warning`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/this role's CONNECTION LIMIT to [56] of 5 \(1[02]\d%/);
    expect(log.text()).not.toContain(PASSWORD);
    expect(log.text()).not.toContain(roleUrl);
  });

  it("counts this app's other instances apart from other clients (same application_name, role and database)", async () => {
    const app = uniqueName("ndc_budget_fleet");
    // Another instance of the same app, and a client of another app, each holding connections under the role's limit of 5.
    const holders = [new pg.Pool({ connectionString: roleUrl, max: 2, application_name: app }), new pg.Pool({ connectionString: roleUrl, max: 1, application_name: `${app}_other` })];
    const held: pg.PoolClient[] = [];
    try {
      for (const [pool, n] of [[holders[0]!, 2], [holders[1]!, 1]] as const) for (let i = 0; i < n; i++) held.push(await pool.connect());
      const log = captureLogger();
      await connectAndClose(createDatabase(pgAdapter({ connectionString: roleUrl, max: 2, application_name: app }), { name: app, logger: log }));
      const warnings = budgetWarnings(log);
      notes.push(`max 2 beside 2 connections of another instance and 1 of another app: ${warnings.length} warning`);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`with 2 already used by this app's other instances (application_name "${app}") and 1 by other clients`);
      expect(warnings[0]).toMatch(/this role's CONNECTION LIMIT to 5 of 5/);
    } finally {
      for (const c of held) c.release();
      for (const pool of holders) await pool.end();
    }
  });

  it("counts other roles' sessions, which a role without pg_read_all_stats sees with backend_type NULL", async () => {
    const pool = new pg.Pool({ connectionString: roleUrl, max: 1, application_name: uniqueName("ndc_budget_roles") });
    pool.on("error", () => {});
    // A session of another role (a superuser's), held while the role reads.
    const other = new pg.Client({ connectionString: await postgresUrl(), application_name: uniqueName("ndc_budget_other_role") });
    other.on("error", () => {});
    await other.connect();
    const everyone = async () =>
      (await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'"))[0]!.n;
    try {
      const before = await everyone();
      const reading = await pgBudget(pool, false);
      const after = await everyone();
      // CONTROL: what the role sees as client backends, the filter the reader used to rely on.
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
      const used = reading.limits[0]!.used;
      notes.push(`a test role's reading of the server's sessions: ${used} (superuser: ${before}–${after}; backend_type filter alone: ${rows[0]!.n})`);
      expect(rows[0]!.n).toBeLessThan(Math.min(before, after));
      expect(used).toBeGreaterThan(rows[0]!.n);
      // Others' tests open and close connections on this shared server meanwhile.
      expect(used).toBeGreaterThanOrEqual(Math.min(before, after) - 3);
      expect(used).toBeLessThanOrEqual(Math.max(before, after) + 3);
    } finally {
      await pool.end();
      await other.end();
    }
  });

  it("control: the same role with max 2 (2 of 5) gives no warning", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_low");
    await connectAndClose(createDatabase(pgAdapter({ connectionString: roleUrl, max: 2, application_name: app }), { name: app, logger: log }));
    notes.push(`max 2 under the same limit: ${budgetWarnings(log).length} warnings`);
    expect(budgetWarnings(log)).toEqual([]);
    expect(log.text()).toContain("connected");
  });

  it("warns about the database's CONNECTION LIMIT 4 for a pool of 4", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_db");
    await connectAndClose(createDatabase(pgAdapter({ connectionString: dbUrl, max: 4, application_name: app }), { name: app, logger: log }));
    const warnings = budgetWarnings(log);
    notes.push(`max 4 in a database limited to 4: ${warnings.length} warning`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("this database's CONNECTION LIMIT");
  });

  it("connectionBudget: false turns the check off", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_off");
    await connectAndClose(createDatabase(pgAdapter({ connectionString: roleUrl, max: 5, application_name: app }), { name: app, logger: log, connectionBudget: false }));
    notes.push(`connectionBudget: false: ${budgetWarnings(log).length} warnings`);
    expect(budgetWarnings(log)).toEqual([]);
  });

  it("a check that hangs or is refused neither fails nor holds up the connect: it runs after the pool is handed out", async () => {
    const asked: string[] = [];
    const CHECK_BOUND_MS = 3000;
    const hang = createDatabase(
      defineAdapter({ kind: "slow-budget", connect: () => ({}), close: () => {}, budget: () => (asked.push("hang"), new Promise(() => {})) }),
      { name: uniqueName("budget_hang"), logger: false, connectionBudget: { timeoutMs: CHECK_BOUND_MS } },
    );
    const log = captureLogger();
    const refused = createDatabase(
      defineAdapter({
        kind: "refused-budget", connect: () => ({}), close: () => {},
        budget: async () => {
          asked.push("refused");
          throw Object.assign(new Error("permission denied for view pg_stat_activity"), { code: "42501" });
        },
      }),
      { name: uniqueName("budget_refused"), logger: log },
    );
    // A connect held by the hanging check could not end before the check's bound.
    const started = performance.now();
    const { client } = await hang.connect();
    const hangMs = performance.now() - started;
    expect(client).toEqual({});
    await waitFor(async () => asked, (a) => a.includes("hang"), 10_000);
    const closing = performance.now();
    await hang.close();
    // close() lets a running check finish first, bounded by its timeout: never longer.
    const closedMs = performance.now() - closing;
    await refused.connect();
    await waitFor(async () => log.text(), (t) => /connection budget check skipped: permission denied/.test(t), 10_000);
    await refused.close();
    notes.push(`hanging check: connect in ${Math.round(hangMs)} ms (the check's bound is ${CHECK_BOUND_MS} ms, in the background), close after ${Math.round(closedMs)} ms; refused check: connect ok, logged at debug`);
    expect(asked).toEqual(["hang", "refused"]); // both checks really ran
    expect(hangMs).toBeLessThan(CHECK_BOUND_MS);
    expect(closedMs).toBeLessThan(CHECK_BOUND_MS + 5000);
    expect(budgetWarnings(log)).toEqual([]);
  });
});

describe("MariaDB", () => {
  let user: MysqlTestUser;
  const notes: string[] = [];
  beforeAll(async () => {
    user = await createMysqlUser("ndc_budget");
    for (const host of ["%", "localhost"]) await mysqlAdminQuery(`ALTER USER ?@'${host}' WITH MAX_USER_CONNECTIONS 4`, [user.user]);
  });
  afterAll(async () => {
    await user?.drop();
    recordFigures("8-budget-mysql2", {
      scenario: "8. Connection budget",
      database: "MariaDB",
      load: "one connect per case",
      faults: "account MAX_USER_CONNECTIONS 4 (test account only)",
      requests: 2,
      statuses: {},
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: null,
      notes: notes.join("; "),
      command: COMMAND,
    });
  });

  it("warns once about the account's MAX_USER_CONNECTIONS for a pool of 4", async () => {
    const log = captureLogger();
    await connectAndClose(createDatabase(mysql2({ uri: user.url, connectionLimit: 4 }), { name: uniqueName("budget_mysql"), logger: log }));
    const warnings = budgetWarnings(log);
    notes.push(`connectionLimit 4 under MAX_USER_CONNECTIONS 4: ${warnings.length} warning`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/this account's MAX_USER_CONNECTIONS to 4 of 4/);
    expect(log.text()).not.toContain(user.password);
  });

  it("control: connectionLimit 1 under the same account limit gives no warning", async () => {
    const log = captureLogger();
    await connectAndClose(createDatabase(mysql2({ uri: user.url, connectionLimit: 1 }), { name: uniqueName("budget_mysql_low"), logger: log }));
    notes.push(`connectionLimit 1: ${budgetWarnings(log).length} warnings`);
    expect(budgetWarnings(log)).toEqual([]);
    expect(log.text()).toContain("connected");
  });
});

describe("MongoDB", () => {
  it("has no server-side limit to read: the adapter has no budget() and a connect logs no budget line, where pg with the same threshold does (control)", async () => {
    // The row's claim, as a fact about the adapter.
    expect((mongodb({ url: "mongodb://127.0.0.1:1/db" }) as { budget?: unknown }).budget).toBeUndefined();
    expect(typeof (pgAdapter({ connectionString: "postgres://127.0.0.1:1/db" }) as { budget?: unknown }).budget).toBe("function");
    // warnAt 1%: any reading at all would warn, so a silent connect means no reading was made.
    const everything = { warnAt: 0.01 };
    const target = await mongoTarget();
    const mongoLog = captureLogger();
    const pgLog = captureLogger();
    const app = uniqueName("ndc_budget_ctl");
    try {
      await connectAndClose(createDatabase(mongodb({ url: target.uri, dbName: "ndc_budget" }), { name: uniqueName("budget_mongo"), logger: mongoLog, connectionBudget: everything }));
      await connectAndClose(createDatabase(pgAdapter({ connectionString: await postgresUrl(), max: 1, application_name: app }), { name: app, logger: pgLog, connectionBudget: everything }));
    } finally {
      await target.close();
    }
    expect(mongoLog.text()).toContain("connected");
    expect(budgetWarnings(mongoLog)).toEqual([]);
    expect(budgetWarnings(pgLog)).toHaveLength(1);
    recordFigures("8-budget-mongodb", {
      scenario: "8. Connection budget",
      database: MONGO_LABEL,
      load: "-",
      faults: "-",
      requests: 0,
      statuses: {},
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: null,
      notes: "not applicable: the mongodb adapter has no budget() (Atlas enforces its limits per tier; see the README's Limits); with warnAt 1% a MongoDB connect logs no budget line, pg logs one",
      command: COMMAND,
    });
  });
});
