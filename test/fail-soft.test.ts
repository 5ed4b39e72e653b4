/**
 * Contract 4, "fail soft, clearly": a bad configuration names the setting at
 * fault; a database that is down answers 503; and no password or connection
 * string ever shows up in an error, a stack, a log line, stats() or health().
 */
import { createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { ServerResponse } from "node:http";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  closeAll,
  createDatabase,
  DatabaseConfigError,
  DatabaseUnavailableError,
  defineAdapter,
  type DatabaseHandle,
} from "../src/index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { serveNode } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, type MongoTarget } from "./support/mongodb-target.js";
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
    mongo = await mongoTarget();
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

  it("mongodb: credentials in the URL (the server rejects the authentication)", async () => {
    const logger = captureLogger();
    const host = new URL(mongo.uri.replace(/^mongodb/, "http")).host;
    const url = `mongodb://ndc:${encodeURIComponent(CANARY)}@${host}/canary?serverSelectionTimeoutMS=1000`;
    const database = createDatabase(mongodb({ url, dbName: "canary" }), { ...fast, name: uniqueName("canary_mongo"), logger });
    expectNoCanary(await collectEverything(database, logger));
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
