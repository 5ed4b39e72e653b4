/**
 * Scenario 16, two different databases left under one name.
 *
 * Two PostgreSQL databases (`test` and `postgres`, each with its own
 * application_name), both defined without `name`, so both are "default".
 * One route per database (next-connect v1), 3 clients on each for 5 s
 * through real HTTP, each answer saying which database served it.
 *
 * Guarantee, whichever of the two is used first: at most one replacement
 * (`connects` ≤ 2), a warning naming both (no secret), then the older
 * definition gets a `DatabaseConfigError` (`setting: "name"`) that says which
 * `name` to give, and the newer one serves every request from its own
 * database with one pool (counted on the server).
 *
 * Control: the naive name-keyed registry (replace the pool whenever the
 * config differs) under the same load opens a pool per switch.
 */
import pgDriver from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase, DatabaseConfigError } from "../../index.js";
import { pg } from "../../src/adapters/pg.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { captureLogger } from "../support/logger.js";
import { samplePeak } from "../support/peak.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { requestLoops, type LoopAnswer } from "../support/request-loops.js";
import { get, serveRouterStyles } from "../support/router-styles.js";
import { waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/two-databases.test.ts";
const LOAD_MS = 5000;
const CLIENTS = 3;
const MAX = 5;
/** Trust authentication accepts any password: this one is in the URLs only to be looked for in the output. */
const SECRET = "two-databases-secret-5b7e";

afterAll(async () => {
  await closeAdmin();
});

async function urlFor(database: string): Promise<string> {
  const url = new URL(await postgresUrl());
  url.password = SECRET;
  url.pathname = `/${database}`;
  return url.toString();
}

const work = async ({ db }: { db: any }) => (await db.query("SELECT current_database() AS name")).rows[0].name as string;

/** Every answer of a load, with the database that served each 200. */
function served(answers: LoopAnswer[], label: string) {
  const mine = answers.filter((a) => a.label === label);
  return {
    answers: mine,
    statuses: countStatuses(mine.map((a) => a.status)),
    databases: [...new Set(mine.filter((a) => a.status === 200).map((a) => JSON.parse(a.body).result as string))],
  };
}

/** Distinct server backends seen for the apps while `run` goes (a lower bound on connects). */
async function backendsSeen<T>(apps: string[], run: () => Promise<T>): Promise<{ result: T; backends: number }> {
  const pids = new Set<number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rows = await adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1)", [apps]);
      for (const r of rows) pids.add(r.pid);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return { result: await run(), backends: pids.size };
  } finally {
    sampling = false;
    await sampler;
  }
}

describe("two databases under one name", () => {
  it.each([
    { first: "older" as const },
    { first: "newer" as const },
  ])("the $first definition used first: at most one replacement, a warning naming both, the older one refused with the name to give, the newer one serving with one pool", async ({ first }) => {
    const appA = uniqueName("ndc_two_test");
    const appB = uniqueName("ndc_two_postgres");
    const log = captureLogger();
    // Evaluated in this order: `older` is the older definition.
    const older = createDatabase(pg({ connectionString: await urlFor("test"), application_name: appA, max: MAX }), { logger: log });
    const newer = createDatabase(pg({ connectionString: await urlFor("postgres"), application_name: appB, max: MAX }), { logger: log });
    const olderServer = await serveRouterStyles(older, work, ["v1"]);
    const newerServer = await serveRouterStyles(newer, work, ["v1"]);
    // Both are "default": the lifecycle, and its counters, outlive the previous case.
    const connectsBefore = newer.stats().connects;
    try {
      const firstAnswer = await get((first === "older" ? olderServer : newerServer).url("v1"));
      expect(firstAnswer.status).toBe(200);
      const peakB = samplePeak(() => pgConnectionCount(appB), 20);
      const { result: answers, backends } = await backendsSeen([appA, appB], async () => {
        const loops = requestLoops([{ label: "older", url: olderServer.url("v1") }, { label: "newer", url: newerServer.url("v1") }], CLIENTS);
        await new Promise((r) => setTimeout(r, LOAD_MS));
        return loops.stop();
      });
      const { peak } = await peakB.stop();
      const stats = newer.stats();
      const connects = stats.connects - connectsBefore;
      const olderAnswers = served(answers, "older");
      const newerAnswers = served(answers, "newer");
      const refused = await older.connect().catch((err: unknown) => err);
      const countA = await waitFor(() => pgConnectionCount(appA), (n) => n === 0, 5000);
      const countB = await pgConnectionCount(appB);
      const warnings = log.lines.filter((l) => l.startsWith("warn") && /test/.test(l) && /postgres/.test(l));
      const output = [...log.lines, ...answers.map((a) => a.body), String((refused as Error).message)];

      recordFigures(`16-two-databases-pg-${first}-first`, {
        scenario: "16. Two databases under one name",
        database: "PostgreSQL",
        load: `${CLIENTS} clients on each database's route (next-connect v1) for ${LOAD_MS / 1000} s, the ${first} definition used first`,
        faults: "databases test and postgres, both createDatabase() without name",
        requests: answers.length,
        statuses: countStatuses(answers.map((a) => a.status)),
        crashes: 0,
        unhandledRejections: 0,
        maxLatencyMs: Math.round(Math.max(...answers.map((a) => a.ms))),
        recoveryMs: null,
        leaks: countA,
        notes:
          `connects ${connects} (replacements ${connects - 1}), ${backends} backends seen; warnings naming both: ${warnings.length}; ` +
          `older definition: ${JSON.stringify(olderAnswers.statuses)}; newer: ${JSON.stringify(newerAnswers.statuses)} served by ${newerAnswers.databases.join(",")}, ` +
          `server-side peak ${peak} (max ${MAX}), ${countB} at the end; the older's connections at the end: ${countA}.`,
        command: COMMAND,
      });

      expect(connects).toBeLessThanOrEqual(2);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      for (const text of output) expect(text).not.toContain(SECRET);
      expect(refused).toBeInstanceOf(DatabaseConfigError);
      expect((refused as DatabaseConfigError).setting).toBe("name");
      expect((refused as Error).message).toMatch(/two different databases use the name "default": pg [^ ]+\/test and pg [^ ]+\/postgres/);
      expect((refused as Error).message).toMatch(/\{ name: "test" \}/);
      // The newer one serves every request, from its own database.
      expect(newerAnswers.statuses).toEqual({ "200": newerAnswers.answers.length });
      expect(newerAnswers.databases).toEqual(["postgres"]);
      // The older one: the app's error path with the config error; a 503 only for requests its closed pool cut.
      const olderErrors = olderAnswers.answers.filter((a) => a.status === 500);
      expect(olderErrors.length).toBeGreaterThan(0);
      for (const a of olderErrors) expect(JSON.parse(a.body)).toMatchObject({ name: "DatabaseConfigError", setting: "name" });
      expect(olderAnswers.answers.filter((a) => a.status !== 500 && a.status !== 200 && a.status !== 503)).toEqual([]);
      expect(olderAnswers.answers.filter((a) => a.status === 503).length).toBeLessThanOrEqual(CLIENTS);
      // One pool on the server: the older's connections gone, the newer's within its max.
      expect(countA).toBe(0);
      expect(peak).toBeLessThanOrEqual(MAX);
      expect(countB).toBeGreaterThan(0);
    } finally {
      await olderServer.close();
      await newerServer.close();
      await newer.close();
      await older.close();
    }
  }, 60_000);

  it("control: a name-keyed registry that replaces the pool on any config change thrashes under the same load", async () => {
    const appA = uniqueName("ndc_two_ctl_test");
    const appB = uniqueName("ndc_two_ctl_postgres");
    const registry = new Map<string, { key: string; pool: pgDriver.Pool }>();
    let created = 0;
    const naive = (config: pgDriver.PoolConfig) => {
      const key = JSON.stringify(config);
      const held = registry.get("default");
      if (held?.key === key) return held.pool;
      void held?.pool.end().catch(() => {});
      const pool = new pgDriver.Pool(config);
      pool.on("error", () => {});
      created++;
      registry.set("default", { key, pool });
      return pool;
    };
    const configA = { connectionString: await urlFor("test"), application_name: appA, max: MAX };
    const configB = { connectionString: await urlFor("postgres"), application_name: appB, max: MAX };
    const middleware = (config: pgDriver.PoolConfig) => Object.assign(
      (req: any, _res: unknown, next: () => unknown) => {
        req.db = naive(config);
        return next();
      },
      {},
    );
    const a = await serveRouterStyles(middleware(configA), work, ["v1"]);
    const b = await serveRouterStyles(middleware(configB), work, ["v1"]);
    try {
      const { result: answers, backends } = await backendsSeen([appA, appB], async () => {
        const loops = requestLoops([{ label: "a", url: a.url("v1") }, { label: "b", url: b.url("v1") }], CLIENTS);
        await new Promise((r) => setTimeout(r, LOAD_MS));
        return loops.stop();
      });
      const statuses = countStatuses(answers.map((x) => x.status));
      recordFigures("16-two-databases-pg-control-naive-registry", {
        scenario: "16. Two databases under one name (control: name-keyed registry, replace on any change)",
        database: "PostgreSQL",
        load: `${CLIENTS} clients on each database's route (next-connect v1) for ${LOAD_MS / 1000} s`,
        faults: "databases test and postgres under one registry key",
        requests: answers.length,
        statuses,
        crashes: 0,
        unhandledRejections: 0,
        maxLatencyMs: Math.round(Math.max(...answers.map((x) => x.ms))),
        recoveryMs: null,
        leaks: null,
        notes: `${created} pools opened in ${LOAD_MS / 1000} s, ${backends} server backends seen, no warning`,
        command: COMMAND,
      });
      expect(created).toBeGreaterThan(10);
      expect(backends).toBeGreaterThan(10);
    } finally {
      await a.close();
      await b.close();
      await registry.get("default")?.pool.end().catch(() => {});
    }
  }, 60_000);
});
