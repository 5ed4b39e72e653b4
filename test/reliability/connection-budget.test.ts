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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, defineAdapter } from "../../src/index.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { recordFigures } from "../support/figures.js";
import { captureLogger } from "../support/logger.js";
import { closeMysqlAdmin, createMysqlUser, mysqlAdminQuery, type MysqlTestUser } from "../support/mysql.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";

const COMMAND = "npx vitest run test/reliability/connection-budget.test.ts";
const PASSWORD = "budget-Secret-pw-7";

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

function budgetWarnings(log: ReturnType<typeof captureLogger>): string[] {
  return log.lines.filter((l) => l.includes("connection budget:"));
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
    const database = createDatabase(pg({ connectionString: roleUrl, max: 5, application_name: app }), { name: app, logger: log });
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

  it("control: the same role with max 2 (2 of 5) gives no warning", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_low");
    await connectAndClose(createDatabase(pg({ connectionString: roleUrl, max: 2, application_name: app }), { name: app, logger: log }));
    notes.push(`max 2 under the same limit: ${budgetWarnings(log).length} warnings`);
    expect(budgetWarnings(log)).toEqual([]);
    expect(log.text()).toContain("connected");
  });

  it("warns about the database's CONNECTION LIMIT 4 for a pool of 4", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_db");
    await connectAndClose(createDatabase(pg({ connectionString: dbUrl, max: 4, application_name: app }), { name: app, logger: log }));
    const warnings = budgetWarnings(log);
    notes.push(`max 4 in a database limited to 4: ${warnings.length} warning`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("this database's CONNECTION LIMIT");
  });

  it("connectionBudget: false turns the check off", async () => {
    const log = captureLogger();
    const app = uniqueName("ndc_budget_pg_off");
    await connectAndClose(createDatabase(pg({ connectionString: roleUrl, max: 5, application_name: app }), { name: app, logger: log, connectionBudget: false }));
    notes.push(`connectionBudget: false: ${budgetWarnings(log).length} warnings`);
    expect(budgetWarnings(log)).toEqual([]);
  });

  it("a check that hangs or is refused neither fails nor holds up the connect beyond its bound", async () => {
    const hang = createDatabase(
      defineAdapter({ kind: "slow-budget", connect: () => ({}), close: () => {}, budget: () => new Promise(() => {}) }),
      { name: uniqueName("budget_hang"), logger: false, connectionBudget: { timeoutMs: 200 } },
    );
    const refused = createDatabase(
      defineAdapter({
        kind: "refused-budget", connect: () => ({}), close: () => {},
        budget: async () => {
          throw Object.assign(new Error("permission denied for view pg_stat_activity"), { code: "42501" });
        },
      }),
      { name: uniqueName("budget_refused"), logger: false },
    );
    const hangMs = await connectAndClose(hang);
    const refusedMs = await connectAndClose(refused);
    notes.push(`hanging check: connect in ${Math.round(hangMs)} ms (bound 200 ms); refused check: connect ok`);
    expect(hangMs).toBeGreaterThanOrEqual(150);
    expect(hangMs).toBeLessThan(2000);
    expect(refusedMs).toBeLessThan(2000);
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
  it("has no server-side limit to read: the check is not run (recorded as not applicable)", () => {
    recordFigures("8-budget-mongodb", {
      scenario: "8. Connection budget",
      database: "MongoDB (wire server)",
      load: "-",
      faults: "-",
      requests: 0,
      statuses: {},
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: null,
      notes: "not applicable: the mongodb adapter has no budget() (Atlas enforces its limits per tier; see the README's Limits)",
      command: COMMAND,
    });
    expect(true).toBe(true);
  });
});
