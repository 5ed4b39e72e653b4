/**
 * Reliability scenario 6: bad input, fuzzed with fast-check.
 *
 * 10,000 generated configurations for pg(), mysql2(), mongodb(),
 * defineAdapter() and createDatabase() options (missing, garbage and
 * half-valid URLs, wrong types, pool sizes out of range, wrong passwords,
 * closed ports, `.invalid` hosts, unicode, bad option values). Each one must
 * end in a DatabaseConfigError naming the setting, a DatabaseUnavailableError,
 * or a working connection: never an untyped error, an unhandled rejection or a
 * hang. A canary password, planted in every place a password can go, must
 * never appear in an error (message, stack, String, JSON, util.inspect), a log
 * line, the console, stats() or health().
 *
 * Real servers: a bounded minority of cases connects to the local PostgreSQL
 * (trust authentication here, so a wrong password still connects: the canary
 * is then only a password that nobody checks), to MariaDB as a user of this
 * run and to MongoDB (the wire server started with a user, like mongod
 * --auth, or MONGODB_URI's mongod): there a wrong password is refused, a
 * DatabaseConfigError naming "credentials". Server-side counts return to zero
 * at the end (MongoDB's only on the wire server, which has a connection table).
 *
 * Control: the same cases run again through a copy of the package whose
 * redactor does nothing (src/redact.js mocked for that copy only); the same
 * canary search must then find the canary, or the zero proves nothing.
 *
 * FUZZ_RUNS and FUZZ_SEED reproduce or shorten a run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAll, createDatabase, DatabaseConfigError, DatabaseUnavailableError, defineAdapter } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { createRedactor, describeError, sanitizeError, secretsOfUrl } from "../../src/redact.js";
import { fuzzCaseArb, makeCanary, type FuzzCase, type FuzzTargets } from "../support/config-arbitraries.js";
import { describeCase, meetsExpectation, runFuzzCase, type CaseResult } from "../support/config-fuzz-run.js";
import { recordFigures } from "../support/figures.js";
import { captureLogger } from "../support/logger.js";
import { MONGO_LABEL, mongoTarget, needsWireServer, type MongoTarget } from "../support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "../support/mysql.js";
import { closeAdmin, freePort, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { captureConsole, errorTexts, findIn, valueTexts } from "../support/secret-exposure.js";
import { waitFor } from "../support/wait.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Cases in flight at once: most are validation failures or refused connects. */
const CONCURRENCY = 16;
/** Longest any step of one case may take before it counts as a hang. */
const STEP_BOUND_MS = 20_000;
/** Cases run again through the copy of the package without redaction (the control). */
const CONTROL_RUNS = Math.min(RUNS, 2000);

let targets: FuzzTargets;
let mongo: MongoTarget;
let mysqlUser: MysqlTestUser;
/** MongoDB connections are counted on the wire server only: a real mongod's are everyone's. */
const countMongo = !needsWireServer("connection table (config fuzz: MongoDB connections are not counted)");
const MONGO_USER = { user: "ndc_fuzz", password: `fuzz-${Math.random().toString(36).slice(2)}`, db: "admin" };

beforeAll(async () => {
  // mongod's smallest SCRAM iteration count: every wrong-password case derives a key, and the run is long enough.
  mongo = await mongoTarget({ users: [MONGO_USER], scramIterationCount: 4096 });
  mysqlUser = await createMysqlUser("ndc_fuzz");
  const mysqlUrl = new URL(mysqlUser.url);
  targets = {
    pgUrl: await postgresUrl(),
    pgApp: uniqueName("ndc_fuzz"),
    mysql: { host: mysqlUrl.hostname, port: Number(mysqlUrl.port || 3306), user: mysqlUser.user, password: mysqlUser.password, database: mysqlUrl.pathname.slice(1) || "test" },
    mongoUri: mongo.uri,
    mongoUser: mongo.server ? MONGO_USER : null,
    closedPort: await freePort(),
  };
});

afterAll(async () => {
  await closeAll();
  await mysqlUser?.drop();
  await mongo?.close();
  await closeAdmin();
  await closeMysqlAdmin();
});

/** The three servers' own counts of this run's connections. */
async function serverCounts() {
  return {
    pg: await pgConnectionCount(targets.pgApp),
    mysql: await mysqlConnectionCount(targets.mysql.user),
    mongo: countMongo ? (mongo.server?.connectionCount ?? 0) : 0,
  };
}
const total = (c: { pg: number; mysql: number; mongo: number }) => c.pg + c.mysql + c.mongo;

type RunCase = typeof runFuzzCase;

async function runAll(cases: FuzzCase[], runId: string, onResult: (c: FuzzCase, r: CaseResult, i: number) => void, run: RunCase = runFuzzCase): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      onResult(cases[i]!, await run(cases[i]!, `fuzz_${runId}_${i}`, STEP_BOUND_MS), i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe("scenario 6: fuzzed configurations", () => {
  it(`${RUNS} configurations end typed or connected, never leak the canary, and leave no connection behind`, { timeout: 240_000 }, async () => {
    const canary = makeCanary();
    const cases = fc.sample(fuzzCaseArb(targets, canary.core), { numRuns: RUNS, seed: SEED });
    const runId = `${process.pid}_${SEED}`;

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUnhandled);
    const consoleCapture = captureConsole();

    const outcomes: Record<string, number> = {};
    const families: Record<string, number> = {};
    const mismatches: string[] = [];
    const leaks: string[] = [];
    let textsSearched = 0;
    let slowestMs = 0;
    let peak = { pg: 0, mysql: 0, mongo: 0 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = await serverCounts();
        peak = { pg: Math.max(peak.pg, now.pg), mysql: Math.max(peak.mysql, now.mysql), mongo: Math.max(peak.mongo, now.mongo) };
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const started = performance.now();
    try {
      await runAll(cases, runId, (c, r) => {
        const key = r.outcome.kind;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        families[`${c.driver}/${c.family}`] = (families[`${c.driver}/${c.family}`] ?? 0) + 1;
        slowestMs = Math.max(slowestMs, r.ms);
        if (!meetsExpectation(c.expect, r.outcome)) {
          mismatches.push(`${describeCase(c)}\n    => ${JSON.stringify(r.outcome)} ${r.detail ?? ""}`);
        }
        textsSearched += r.exposed.length;
        const hit = findIn(r.exposed, canary.core);
        if (hit.count > 0) leaks.push(`${describeCase(c)}\n    => ${hit.first}`);
      });
    } finally {
      consoleCapture.restore();
      process.off("unhandledRejection", onUnhandled);
      process.off("uncaughtException", onUnhandled);
      watching = false;
      await watcher;
    }
    const elapsedMs = performance.now() - started;
    const consoleHit = findIn(consoleCapture.lines, canary.core);
    textsSearched += consoleCapture.lines.length;

    // Every pool was closed by its case; late pools (connects that beat their
    // deadline) close themselves. The servers must see none of ours.
    await closeAll();
    const left = await waitFor(serverCounts, (c) => total(c) === 0, 15_000, 200);

    // The control: the same cases (the first CONTROL_RUNS of them, to keep the file's time in bounds)
    // and the same search, through a copy of the package that redacts nothing.
    const control = await runWithoutRedaction(cases.slice(0, CONTROL_RUNS), runId, canary.core);
    await closeAll();
    const leftAfterControl = await waitFor(serverCounts, (c) => total(c) === 0, 15_000, 200);

    const typed = (outcomes.connected ?? 0) + (outcomes.DatabaseConfigError ?? 0) + (outcomes.DatabaseUnavailableError ?? 0);
    recordFigures("6-config-fuzz", {
      scenario: "6. Bad input, fuzzed (fast-check)",
      database: `PostgreSQL, MariaDB, ${MONGO_LABEL}`,
      load: `${RUNS} generated configurations, ${CONCURRENCY} at a time, in ${(elapsedMs / 1000).toFixed(1)} s (seed ${SEED})`,
      faults: "missing/garbage/half-valid URLs, wrong types, pool sizes out of range, wrong passwords, closed ports, .invalid hosts, unicode, bad option values",
      requests: RUNS,
      statuses: outcomes,
      crashes: (outcomes.untyped ?? 0) + (outcomes.hang ?? 0),
      unhandledRejections: unhandled.length,
      maxLatencyMs: Math.round(slowestMs),
      recoveryMs: null,
      leaks: total(left),
      notes:
        `canary password (in URL userinfo, password fields, ?password=, MongoDB auth; raw, percent-encoded, unicode) ` +
        `found ${leaks.length + consoleHit.count} times in ${textsSearched} texts (errors as message/stack/String/JSON/util.inspect, ` +
        `log lines, console and process warnings, stats(), health()); control, the first ${CONTROL_RUNS} of the same cases through a copy of the package whose redactor does nothing: ` +
        `found in ${control.leakingCases} cases (${JSON.stringify(control.byFamily)}). Expectation mismatches: ${mismatches.length}. ` +
        `Peak server-side connections: pg ${peak.pg}, MariaDB ${peak.mysql}, ${countMongo ? `wire server ${peak.mongo}` : "MongoDB not counted (real mongod)"}; after: ${JSON.stringify(left)}. ` +
        `Local PostgreSQL uses trust auth, so its wrong-password cases connect. "crashes" counts untyped errors and hangs (in-process run). ` +
        `Families: ${JSON.stringify(families)}`,
      command: "npx vitest run test/reliability/config-fuzz.test.ts  (FUZZ_SEED=<seed> FUZZ_RUNS=<n> to reproduce)",
    });

    expect(leaks.slice(0, 5), `canary leaked in ${leaks.length} cases (seed ${SEED})`).toEqual([]);
    expect(consoleHit.first, "canary in console output").toBeNull();
    expect(mismatches.slice(0, 10), `${mismatches.length} cases broke their expectation (seed ${SEED})`).toEqual([]);
    expect(outcomes.untyped ?? 0).toBe(0);
    expect(outcomes.hang ?? 0).toBe(0);
    expect(typed).toBe(RUNS);
    expect(unhandled.map(String)).toEqual([]);
    expect(left).toEqual({ pg: 0, mysql: 0, mongo: 0 });
    // The run really exercised every outcome and every server.
    expect(outcomes.connected).toBeGreaterThan(0);
    expect(outcomes.DatabaseConfigError).toBeGreaterThan(RUNS / 4);
    expect(outcomes.DatabaseUnavailableError).toBeGreaterThan(RUNS / 10);
    expect(peak.pg + peak.mysql + peak.mongo).toBeGreaterThan(0);
    expect(leftAfterControl).toEqual({ pg: 0, mysql: 0, mongo: 0 });
    // The control must catch leaks, or the zero above proves nothing: with a
    // redactor that does nothing, the same search over the same cases finds the canary.
    expect(control.leakingCases, `no-op redactor: ${JSON.stringify(control.byFamily)}`).toBeGreaterThan(0);
  });
});

/**
 * The same cases through a second copy of the package, loaded with its
 * redactor replaced by one that returns every text unchanged; the same canary
 * search over what that copy shows. Only this copy is affected: the mock is
 * registered for the imports below and removed right after.
 */
async function runWithoutRedaction(cases: FuzzCase[], runId: string, core: string): Promise<{ leakingCases: number; byFamily: Record<string, number> }> {
  vi.resetModules();
  vi.doMock("../../src/redact.js", async (importOriginal) => ({
    ...(await importOriginal<typeof import("../../src/redact.js")>()),
    createRedactor: () => (text: string) => text,
  }));
  const { runFuzzCase: runUnredacted } = await import("../support/config-fuzz-run.js");
  vi.doUnmock("../../src/redact.js");
  vi.resetModules();
  const byFamily: Record<string, number> = {};
  let leakingCases = 0;
  const consoleCapture = captureConsole(); // drivers' own warnings stay out of the report here too
  try {
    await runAll(
      cases,
      `${runId}_noop`,
      (c, r) => {
        if (findIn(r.exposed, core).count === 0) return;
        leakingCases++;
        byFamily[`${c.driver}/${c.family}`] = (byFamily[`${c.driver}/${c.family}`] ?? 0) + 1;
      },
      runUnredacted,
    );
  } finally {
    consoleCapture.restore();
  }
  return { leakingCases, byFamily };
}

describe("regressions found by the fuzzer", () => {
  it("a connect that throws a value with no string form (null prototype, throwing getters) ends in a typed 503 and a cooldown", async () => {
    const thrown: Array<() => unknown> = [
      () => Object.create(null),
      () => ({ message: { toString: null } }),
      () => ({ get message(): string { throw new Error("getter"); } }),
      () => Object.assign(new Error("x"), { code: Object.create(null) }),
      () => Object.defineProperty(new Error("x"), "stack", { get() { throw new Error("stack getter"); } }),
    ];
    for (const make of thrown) {
      const database = createDatabase(
        defineAdapter({ kind: "odd", connect: () => { throw make(); }, close: () => {}, ping: () => { throw make(); } }),
        { name: uniqueName("fuzz_odd"), logger: false, retry: { cooldownMs: 60_000 } },
      );
      // Before the fix: an untyped TypeError ("Cannot convert object to primitive value"), no cooldown recorded.
      const err = await database.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
      expect(database.stats()).toMatchObject({ state: "unavailable", failures: 1 });
      expect((await database.health()).ok).toBe(false);
      await database.close();
    }
    // describeError and sanitizeError are total.
    const redact = createRedactor([]);
    expect(describeError(Object.create(null), redact).message).toBe("[object Object]");
    expect(sanitizeError({ message: { toString: null } }, redact).message).toBe("[object Object]");
    const trap = () => {
      throw new Error("trap");
    };
    const hostile = new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    expect(sanitizeError(hostile, redact).message).toBe("[unprintable value]");
  });

  it("a password given as a URL query parameter is masked like one in the userinfo", async () => {
    // node-postgres connects with `?password=`; before the fix only the
    // userinfo password and the exact URL were masked, so an onConnect (or a
    // driver) that printed the password or the URL as `new URL()` prints it
    // leaked it.
    const password = `qp_${Math.random().toString(36).slice(2)}ü€`;
    const app = uniqueName("fuzz_qp");
    const url = `${(await postgresUrl()).replace(/\?.*$/, "")}?password=${encodeURIComponent(password)}`;
    for (const shown of [password, `postgres://127.0.0.1/test?password=${password}`]) {
      const logger = captureLogger();
      const database = createDatabase(pg({ connectionString: url, application_name: app, max: 1 }), {
        name: uniqueName("fuzz_qp"),
        logger,
        onConnect: () => {
          throw new Error(`migration check failed on ${shown}`);
        },
      });
      const err = await database.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
      const texts = [...errorTexts(err), ...logger.lines, ...valueTexts(database.stats()), ...valueTexts(await database.health())];
      expect(findIn(texts, password.slice(0, 10)).first).toBeNull();
      expect(texts.join("\n")).toContain("migration check failed on"); // the message itself is kept
      await database.close();
    }
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0, 5000)).toBe(0);
    // Other parameters are left alone: they help debugging and hold no secret.
    expect(createRedactor(secretsOfUrl("postgres://h/db?sslmode=require&password=abc123"))("sslmode=require, got abc123")).toBe("sslmode=require, got ***");
  });

  it("URLs the drivers cannot parse are configuration errors, not 503s at every attempt", async () => {
    const port = targets.closedPort;
    for (const [adapter, setting] of [
      [pg({ connectionString: `postgres://u:ab#cd@127.0.0.1:${port}/db` }), "connectionString"], // raw '#' in the password
      [pg({ connectionString: `postgres://u:pw@[zz]:${port}/db` }), "connectionString"], // not an IPv6 literal
      [mysql2({ uri: `mysql://u:pw@127.0.0.1:${port}/%zz` }), "uri"], // malformed database name
    ] as const) {
      const err = await createDatabase(adapter as never, { name: uniqueName("fuzz_url"), logger: false }).connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseConfigError);
      expect((err as DatabaseConfigError).setting).toBe(setting);
      expect((err as Error).message).not.toMatch(/ab#cd|pw@/);
    }
    // Control: valid URLs the checks must not reject (IPv6, unicode host, several hosts) reach the network.
    for (const adapter of [
      pg({ connectionString: `postgres://u@[::1]:${port}/db` }),
      pg({ connectionString: `postgres://u:pa^ss@bücher.invalid/db` }),
      mongodb({ url: `mongodb://127.0.0.1:${port},127.0.0.1:${port + 1}/db`, serverSelectionTimeoutMS: 100 }),
    ]) {
      const err = await createDatabase(adapter as never, { name: uniqueName("fuzz_url_ok"), logger: false, connectTimeoutMs: 1000 }).connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
    }
  });

  it("mysql2: pool options in the URI query are checked like the options themselves", async () => {
    // mysql2 copies `?connectionLimit=0` into its pool options: before the fix
    // the connect waited for a connection that could never be opened (a hang
    // bounded only by connectTimeoutMs, then 503s) instead of a config error.
    for (const [query, setting] of [["connectionLimit=0", "connectionLimit"], ["connectionLimit=-5", "connectionLimit"], ["queueLimit=-1", "queueLimit"], ["connectionLimit=1e12", "connectionLimit"]] as const) {
      const database = createDatabase(mysql2({ uri: `mysql://u:pw@127.0.0.1:${targets.closedPort}/db?${query}` }), { name: uniqueName("fuzz_uri"), logger: false });
      const err = await database.connect().catch((e: unknown) => e);
      expect(err, query).toBeInstanceOf(DatabaseConfigError);
      expect((err as DatabaseConfigError).setting).toBe(setting);
      expect((err as Error).message).not.toContain("pw");
    }
    // Control: valid values in the query still connect (to MariaDB, as this run's user).
    const ok = createDatabase(mysql2({ uri: `${mysqlUser.url}?connectionLimit=2&queueLimit=0` }), { name: uniqueName("fuzz_uri_ok"), logger: false });
    await ok.connect();
    expect(ok.stats().pool?.max).toBe(2);
    await ok.close();
  });
});
