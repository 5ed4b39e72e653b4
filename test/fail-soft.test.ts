/**
 * Contract 4, "fail soft, clearly": a bad configuration names the setting at
 * fault; a database that is down answers 503; and no password or connection
 * string ever shows up in an error, a stack, a log line, stats() or health().
 */
import mysqlDriver from "mysql2/promise";
import { createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { ServerResponse } from "node:http";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  closeAll,
  createDatabase,
  DatabaseConfigError,
  defineAdapter,
  type DatabaseHandle,
} from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { serveNode } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, mongoUrl, needsWireServer, wireServerTarget, withCredentials, type MongoTarget } from "./support/mongodb-target.js";
import { startPrivatePostgres } from "./support/private-postgres.js";
import { errorTexts } from "./support/secret-exposure.js";
import { createMysqlUser, type MysqlTestUser } from "./support/mysql.js";
import { postgresUrl, uniqueName, withUrl } from "./support/postgres.js";

afterAll(() => closeAll());

describe("a bad configuration names the setting at fault", () => {
  const cases: Array<[string, () => DatabaseHandle<unknown, unknown>, string, RegExp]> = [
    ["pg connectionString unset", () => createDatabase(pg({ connectionString: undefined })), "connectionString", /connectionString.*undefined/],
    ["pg connectionString empty", () => createDatabase(pg({ connectionString: "" })), "connectionString", /empty string/],
    ["pg connectionString wrong scheme", () => createDatabase(pg({ connectionString: "mysql://h/db" })), "connectionString", /postgres:\/\//],
    ["pg connectionString bad port", () => createDatabase(pg({ connectionString: "postgres://h:99999/db" })), "connectionString", /port/],
    ["pg max 0", () => createDatabase(pg({ max: 0 })), "max", /"max".*integer from 1/],
    ["pg max negative", () => createDatabase(pg({ max: -5 })), "max", /got -5/],
    ["pg max huge", () => createDatabase(pg({ max: 1e9 })), "max", /10000/],
    ["pg max fractional", () => createDatabase(pg({ max: 2.5 })), "max", /integer/],
    ["pg max as string", () => createDatabase(pg({ max: "10" as never })), "max", /got a string/],
    ["pg port out of range", () => createDatabase(pg({ port: 70000 })), "port", /port/],
    ["pg options not an object", () => createDatabase(pg("postgres://h/db" as never)), "config", /options object/],
    ["mysql2 uri unset", () => createDatabase(mysql2({ uri: undefined })), "uri", /"uri"/],
    ["mysql2 connectionLimit 0", () => createDatabase(mysql2({ uri: "mysql://h/db", connectionLimit: 0 })), "connectionLimit", /connectionLimit/],
    ["mysql2 password as a function (mysql2 has no password callback)", () => createDatabase(mysql2({ uri: "mysql://h/db", password: (() => "x") as never })), "password", /"password" must be a string, got a function/],
    ["mysql2 password as a number is named by type, not echoed", () => createDatabase(mysql2({ uri: "mysql://h/db", password: 918273645 as never })), "password", /^(?!.*918273645).*got a number/],
    ["options as an array", () => createDatabase(pg({}), [] as never), "options", /must be an object, got an array/],
    ["mongodb url unset", () => createDatabase(mongodb({ url: undefined })), "url", /"url"/],
    ["mongodb url wrong scheme", () => createDatabase(mongodb({ url: "postgres://h/db" })), "url", /mongodb:\/\//],
    ["mongodb no database name", () => createDatabase(mongodb({ url: "mongodb://h:27017" })), "dbName", /dbName/],
    ["mongodb maxPoolSize negative", () => createDatabase(mongodb({ url: "mongodb://h/db", maxPoolSize: -1 })), "maxPoolSize", /maxPoolSize/],
    // Rejected by the driver's own parser: once a 503 retried forever, now a config error.
    ["mongodb option the driver does not know", () => createDatabase(mongodb({ url: "mongodb://127.0.0.1:1/db", foo: 1 } as never)), "options", /driver rejected the options: option foo is not supported/],
    ["mongodb invalid read preference", () => createDatabase(mongodb({ url: "mongodb://127.0.0.1:1/db", readPreference: "bogus" as never })), "options", /Invalid read preference mode/],
    ["mongodb+srv with a port", () => createDatabase(mongodb({ url: "mongodb+srv://cluster.example.invalid:27017/db" })), "url", /connection string: mongodb\+srv URI cannot have port number/],
    ["mongodb bad authMechanism, password never echoed", () => createDatabase(mongodb({ url: `mongodb://u:${encodeURIComponent(CANARY)}@127.0.0.1:1/db?authMechanism=BOGUS` })), "options", /^(?!.*Canary7f3e).*authMechanism/],
    ["no adapter", () => createDatabase(undefined as never), "adapter", /needs an adapter/],
    ["name not a string", () => createDatabase(pg({}), { name: 5 as never }), "name", /"name"/],
    ["negative cooldown", () => createDatabase(pg({}), { retry: { cooldownMs: -1 } }), "retry.cooldownMs", /retry\.cooldownMs/],
    ["logger without methods", () => createDatabase(pg({}), { logger: {} as never }), "logger", /logger/],
    ["jitter above 1", () => createDatabase(pg({}), { retry: { jitter: 1.5 } }), "retry.jitter", /retry\.jitter/],
    ["connectionBudget not an object", () => createDatabase(pg({}), { connectionBudget: "yes" as never }), "connectionBudget", /connectionBudget/],
    ["connectionBudget.warnAt above 1", () => createDatabase(pg({}), { connectionBudget: { warnAt: 80 } }), "connectionBudget.warnAt", /warnAt/],
    ["defineAdapter without connect", () => createDatabase(defineAdapter({ kind: "x" } as never)), "connect", /"connect" must be a function/],
  ];

  it.each(cases)("%s", async (_label, define, setting, message) => {
    const database = define(); // defining never throws
    const err = await database.connect().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConfigError);
    expect((err as DatabaseConfigError).setting).toBe(setting);
    expect((err as Error).message).toMatch(message);
    expect((err as DatabaseConfigError).status).toBe(500);
  });

  it("reaches the app's error handler: v1 via a rejection, v0 via next(err)", async () => {
    const database = createDatabase(pg({ connectionString: undefined }), { name: uniqueName("cfg") });
    const seen: string[] = [];
    const v1 = createRouter<any, ServerResponse>().use(database).get((_q, res) => void res.end("reached"));
    const v0 = nextConnectV0<any, ServerResponse>({
      onError: (err, _req, res) => {
        seen.push(`v0:${(err as DatabaseConfigError).setting}`);
        res.statusCode = 500;
        res.end();
      },
    }).use(database).get((_q, res) => void res.end("reached"));
    const s1 = await serveNode((req, res) =>
      void v1.run(req, res).catch((err: DatabaseConfigError) => {
        seen.push(`v1:${err.setting}`);
        res.statusCode = 500;
        res.end();
      }),
    );
    const s0 = await serveNode((req, res) => void v0(req, res));
    expect((await fetch(s1.url)).status).toBe(500);
    expect((await fetch(s0.url)).status).toBe(500);
    expect(seen.sort()).toEqual(["v0:connectionString", "v1:connectionString"]);
    await Promise.all([s1.close(), s0.close()]);
  });
});

/**
 * The canary: a password that must never be printed. It has characters that
 * need URL-encoding, so both the raw and the encoded forms are searched for.
 */
const CANARY = "Canary7f3e@pw:/#%x";
const CANARY_FORMS = [CANARY, encodeURIComponent(CANARY), "Canary7f3e"];

async function collectEverything(database: DatabaseHandle<unknown, unknown>, logger: ReturnType<typeof captureLogger>) {
  const texts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const err = await database.connect().then(() => null, (e: unknown) => e);
    expect(err).not.toBeNull();
    const e = err as Error & { cause?: Error };
    texts.push(String(e), e.message, e.stack ?? "", inspect(e, { depth: 5 }), String(e.cause?.message), String(e.cause?.stack));
  }
  texts.push(JSON.stringify(database.stats()), JSON.stringify(await database.health({ timeoutMs: 3000 })));
  texts.push(logger.text());
  return texts.join("\n");
}

function expectNoCanary(output: string) {
  for (const form of CANARY_FORMS) expect(output).not.toContain(form);
}

describe("no secret in any output", () => {
  let mongo: MongoTarget;
  let mysqlUser: MysqlTestUser;
  let consoleSpy: Array<ReturnType<typeof vi.spyOn>>;
  let consoleText: string[];

  beforeAll(async () => {
    // A wire server started with a user, so a wrong password is refused the way mongod --auth refuses it.
    mongo = await mongoTarget({ users: [{ user: "ndc", password: "the-right-password" }] });
    mysqlUser = await createMysqlUser("ndc_canary");
    consoleText = [];
    consoleSpy = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void consoleText.push(args.map(String).join(" "))),
    );
  });
  afterAll(async () => {
    consoleSpy.forEach((s) => s.mockRestore());
    expectNoCanary(consoleText.join("\n"));
    await closeAll();
    await mysqlUser.drop();
    await mongo.close();
  });

  const fast = { retry: { cooldownMs: 1 } };

  /**
   * A database whose onConnect runs `echo` (a query the server answers with an
   * error quoting the value it was given) and rethrows what the driver raised.
   * Returns that raw error, as the driver raised it, and everything the
   * package showed: the control is that the raw error holds the canary.
   */
  async function serverEcho(adapter: unknown, echo: (db: any) => Promise<unknown>) {
    const raw: unknown[] = [];
    const logger = captureLogger();
    const database = createDatabase(adapter as never, {
      ...fast,
      name: uniqueName("canary_echo"),
      logger,
      onConnect: async ({ db }: { db: unknown }) => {
        try {
          await echo(db);
        } catch (err) {
          raw.push(err);
          throw err;
        }
      },
    });
    const output = await collectEverything(database, logger);
    expect(raw.length, "the echoing query ran and failed").toBeGreaterThan(0);
    return { raw: errorTexts(raw[0]).join("\n"), output };
  }

  it("pg: password in the connection string, server unreachable", async () => {
    const logger = captureLogger();
    const url = withUrl(await postgresUrl(), { port: 1, password: CANARY });
    expect(url).toContain(encodeURIComponent(CANARY)); // the canary really is in the config
    const database = createDatabase(pg({ connectionString: url }), { ...fast, name: uniqueName("canary_pg"), logger });
    const output = await collectEverything(database, logger);
    expect(output).toMatch(/ECONNREFUSED/); // the useful part survives
    expectNoCanary(output);
  });

  it("pg: password option, server unreachable", async () => {
    const logger = captureLogger();
    const database = createDatabase(pg({ host: "127.0.0.1", port: 1, password: CANARY, user: "u" }), { ...fast, name: uniqueName("canary_pg2"), logger });
    expectNoCanary(await collectEverything(database, logger));
  });

  it("pg: the server quotes the password back (a failed query in onConnect); control: the driver's error holds it, ours masks it", async () => {
    // The local server uses trust authentication: the canary password is sent and ignored, so the connect succeeds.
    const url = withUrl(await postgresUrl(), { password: CANARY });
    const { raw, output } = await serverEcho(pg({ connectionString: url, max: 1 }), (db) => db.query("SELECT $1::int", [CANARY]));
    expect(CANARY_FORMS.some((f) => raw.includes(f)), "control: PostgreSQL's error quotes the password").toBe(true);
    expect(output).toMatch(/invalid input syntax for type integer/); // the useful part survives
    expectNoCanary(output);
  });

  it("pg: a wrong password against a server that checks it (28P01) is a DatabaseConfigError naming credentials; control: the right one connects", { timeout: 90_000 }, async () => {
    // The shared server trusts every local connection; a private one checks passwords.
    const server = await startPrivatePostgres();
    try {
      const logger = captureLogger();
      const wrong = withUrl(server.url, { password: CANARY });
      const database = createDatabase(pg({ connectionString: wrong }), { ...fast, name: uniqueName("canary_pg_auth"), logger });
      const err = await database.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseConfigError);
      expect((err as DatabaseConfigError).setting).toBe("credentials");
      const output = await collectEverything(database, logger);
      expect(output).toMatch(/28P01: password authentication failed/);
      expectNoCanary(output);
      const right = createDatabase(pg({ connectionString: server.url }), { name: uniqueName("canary_pg_auth_ok"), logger: false });
      await right.connect();
      await right.close();
      await database.close();
    } finally {
      await server.destroy();
    }
  });

  it("pg: a malformed URL holding a password is rejected without echoing it", async () => {
    const database = createDatabase(pg({ connectionString: `postgres://u:${CANARY}@h:70000/db` }), { name: uniqueName("canary_pg3") });
    const err = (await database.connect().catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(DatabaseConfigError);
    expectNoCanary(`${err.message}\n${err.stack}\n${inspect(err)}`);
  });

  it("mysql2: wrong password against the real server (access denied)", async () => {
    const logger = captureLogger();
    const uri = new URL(mysqlUser.url);
    uri.password = encodeURIComponent(CANARY);
    const database = createDatabase(mysql2({ uri: uri.toString() }), { ...fast, name: uniqueName("canary_my"), logger });
    const output = await collectEverything(database, logger);
    expect(output).toMatch(/Access denied|ER_ACCESS_DENIED/);
    expectNoCanary(output);
  });

  it("mysql2: password option, wrong password", async () => {
    const logger = captureLogger();
    const database = createDatabase(
      mysql2({ host: "127.0.0.1", port: 3306, user: mysqlUser.user, password: CANARY, database: "test" }),
      { ...fast, name: uniqueName("canary_my2"), logger },
    );
    expectNoCanary(await collectEverything(database, logger));
  });

  it("mysql2: a malformed URL; control: mysql2's own error holds the password, ours does not", async () => {
    const uri = `mysql://u:${encodeURIComponent(CANARY)}@127.0.0.1:70000/db`;
    const raw = (() => {
      try {
        mysqlDriver.createPool({ uri });
        return "";
      } catch (err) {
        return errorTexts(err).join("\n");
      }
    })();
    expect(CANARY_FORMS.some((f) => raw.includes(f)), "control: mysql2's URL error quotes the URL").toBe(true);
    const logger = captureLogger();
    const database = createDatabase(mysql2({ uri }), { ...fast, name: uniqueName("canary_my3"), logger });
    const output = await collectEverything(database, logger);
    expect(output).toMatch(/uri/);
    expectNoCanary(output);
  });

  it("mysql2: the server quotes the password back (a failed query in onConnect); control: the driver's error holds it, ours masks it", async () => {
    const user = await createMysqlUser("ndc_canary_echo", CANARY); // the canary is this user's real password
    try {
      const { raw, output } = await serverEcho(mysql2({ uri: user.url, connectionLimit: 1 }), (db) => db.query("SELECT * FROM ??", [CANARY]));
      expect(CANARY_FORMS.some((f) => raw.includes(f)), "control: MariaDB's error quotes the password").toBe(true);
      expect(output).toMatch(/doesn't exist/);
      expectNoCanary(output);
    } finally {
      await closeAll();
      await user.drop();
    }
  });

  it("mongodb: credentials in the URL, the server rejects the authentication (code 18): a DatabaseConfigError naming credentials", async () => {
    const logger = captureLogger();
    const urlWith = (password: string) => mongoUrl(withCredentials(mongo.uri, "ndc", password), "canary", { authSource: "admin", serverSelectionTimeoutMS: 2000 });
    const database = createDatabase(mongodb({ url: urlWith(CANARY), dbName: "canary" }), { ...fast, name: uniqueName("canary_mongo"), logger });
    const err = await database.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConfigError);
    expect((err as DatabaseConfigError).setting).toBe("credentials");
    const output = await collectEverything(database, logger);
    expect(output).toContain("Authentication failed");
    expectNoCanary(output);
    if (mongo.server) {
      // Control: the same URL with the user's real password connects, so the password was the only thing refused.
      const right = createDatabase(mongodb({ url: urlWith("the-right-password"), dbName: "canary" }), { name: uniqueName("canary_mongo_ok"), logger: false });
      await right.connect();
      expect(mongo.server.connections().some((c) => c.user?.user === "ndc")).toBe(true);
      await right.close();
    }
  });

  it.skipIf(needsWireServer("users (fail-soft: the canary as a real MongoDB password)"))(
    "mongodb: the server quotes the password back (no such command, in onConnect); control: the driver's error holds it, ours masks it",
    async () => {
      const echoing = await wireServerTarget({ users: [{ user: "ndc", password: CANARY }] });
      try {
        const url = mongoUrl(withCredentials(echoing.uri, "ndc", CANARY), "canary", { authSource: "admin", serverSelectionTimeoutMS: 2000 });
        const { raw, output } = await serverEcho(mongodb({ url, maxPoolSize: 1 }), (db) => db.command({ [CANARY]: 1 }));
        expect(CANARY_FORMS.some((f) => raw.includes(f)), "control: the server's error quotes the password").toBe(true);
        expect(output).toMatch(/no such command/);
        expectNoCanary(output);
      } finally {
        await closeAll();
        await echoing.close();
      }
    },
  );

  it("mongodb: a password SASLprep refuses (an emoji) is a DatabaseConfigError naming credentials, not a 503 retried forever", async () => {
    // Found by the config fuzzer once MongoDB checked passwords: the driver's SCRAM-SHA-256 step rejects
    // the password with a plain Error ("Unassigned code point") before sending anything.
    const password = `${CANARY}\u{1F600}`;
    const logger = captureLogger();
    const url = mongoUrl(withCredentials(mongo.uri, "ndc", password), "canary", { authSource: "admin", serverSelectionTimeoutMS: 2000 });
    const database = createDatabase(mongodb({ url }), { ...fast, name: uniqueName("canary_mongo_prep"), logger });
    const err = await database.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConfigError);
    expect((err as DatabaseConfigError).setting).toBe("credentials");
    expect((err as Error).message).toMatch(/SASLprep rejects it \(Unassigned code point/);
    const output = await collectEverything(database, logger);
    expectNoCanary(output);
    expect(output).not.toContain("\u{1F600}");
  });

  it("mongodb: credentials in the URL, server unreachable", async () => {
    const logger = captureLogger();
    const url = `mongodb://ndc:${encodeURIComponent(CANARY)}@127.0.0.1:1/canary`;
    const database = createDatabase(mongodb({ url, serverSelectionTimeoutMS: 300 }), { ...fast, name: uniqueName("canary_mongo2"), logger });
    expectNoCanary(await collectEverything(database, logger));
  });

  it("the default console logger is redacted too", async () => {
    const url = withUrl(await postgresUrl(), { port: 1, password: CANARY });
    const database = createDatabase(pg({ connectionString: url }), { ...fast, name: uniqueName("canary_console") });
    const before = consoleText.length;
    await database.connect().catch(() => {});
    expect(consoleText.length).toBeGreaterThan(before); // it did log the failure
    expectNoCanary(consoleText.join("\n"));
  });

  it("a driver that echoes its URL in errors is masked; control: the raw error has the password", async () => {
    // Some drivers and proxies put the connection string into their messages.
    const url = `postgres://ndc:${encodeURIComponent(CANARY)}@db.internal:5432/app`;
    const raw = new Error(`could not connect to ${url} (password ${CANARY})`);
    const logger = captureLogger();
    const database = createDatabase(
      defineAdapter({ kind: "echo", config: { url }, secrets: [CANARY, url], connect: async () => Promise.reject(raw), close: () => {} }),
      { ...fast, name: uniqueName("canary_echo"), logger },
    );
    // Control: without the package, the canary search finds the secret.
    expect(CANARY_FORMS.some((f) => `${raw.message}\n${raw.stack}`.includes(f))).toBe(true);
    const output = await collectEverything(database, logger);
    expect(output).toContain("could not connect to"); // the message itself is kept
    expectNoCanary(output);
  });
});
