/**
 * Serverless defaults: the platform is told from its documented environment
 * variables, each gets a small pool and a short idle timeout, the user's own
 * settings always win, and a real connect shows the driver's own pool
 * options holding the chosen values. One line says what was chosen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { detectPlatform } from "../src/platform/detect.js";
import { SERVERLESS_POOLS, serverlessDefaults } from "../src/platform/pool-defaults.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, type MongoTarget } from "./support/mongodb-target.js";
import { closeMysqlAdmin, mysqlUrl } from "./support/mysql.js";
import { closeAdmin, postgresUrl, uniqueName } from "./support/postgres.js";

describe("detectPlatform", () => {
  it.each([
    [{ VERCEL: "1" }, "vercel"],
    // Vercel functions run on Lambda and carry its variables too.
    [{ VERCEL: "1", AWS_LAMBDA_FUNCTION_NAME: "fn", AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x" }, "vercel"],
    [{ NETLIFY: "true" }, "netlify"],
    [{ SITE_ID: "1d01c0c0", SITE_NAME: "petsof", AWS_LAMBDA_FUNCTION_NAME: "___netlify-handler" }, "netlify"],
    [{ AWS_LAMBDA_FUNCTION_NAME: "my-fn" }, "aws-lambda"],
    [{ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x" }, "aws-lambda"],
    [{ K_SERVICE: "web", K_REVISION: "web-00001", K_CONFIGURATION: "web" }, "cloud-run"],
  ])("%j → %s", (env, name) => {
    expect(detectPlatform(env)?.name).toBe(name);
  });

  it.each([
    [{}],
    // A site id alone (a build, a laptop with the site's .env) is not a Netlify function.
    [{ SITE_ID: "1d01c0c0" }],
    [{ VERCEL: "" }],
    [{ VERCEL: "0" }],
    [{ NETLIFY: "false" }],
    // ECS and EC2 set AWS_EXECUTION_ENV too, with other values.
    [{ AWS_EXECUTION_ENV: "AWS_ECS_FARGATE" }],
  ])("%j → not serverless", (env) => {
    expect(detectPlatform(env)).toBeNull();
  });
});

describe("serverlessDefaults: user options win", () => {
  const lambda = { AWS_LAMBDA_FUNCTION_NAME: "fn" };
  const vercel = { VERCEL: "1" };

  it("fills only what the user left unset, per driver's own option names", () => {
    expect(serverlessDefaults("pg", {}, undefined, vercel)?.values).toEqual({ max: 5, idleTimeoutMillis: 5000 });
    expect(serverlessDefaults("pg", { max: 20 }, undefined, vercel)?.values).toEqual({ idleTimeoutMillis: 5000 });
    expect(serverlessDefaults("pg", { max: 20, idleTimeoutMillis: 0 }, undefined, vercel)?.values).toEqual({});
    // An explicit undefined is unset: spread configs often carry them.
    expect(serverlessDefaults("pg", { max: undefined }, undefined, lambda)?.values).toEqual({ max: 2, idleTimeoutMillis: 5000 });
    expect(serverlessDefaults("mysql2", { connectionLimit: 3 }, undefined, lambda)?.values).toEqual({ maxIdle: 0, idleTimeout: 5000 });
    expect(serverlessDefaults("mongodb", {}, (k) => k === "maxPoolSize", vercel)?.values).toEqual({ maxIdleTimeMS: 5000 });
  });

  it("nothing off a serverless platform", () => {
    expect(serverlessDefaults("pg", {}, undefined, {})).toBeNull();
  });

  it("every platform has a pool of at least 2 and an idle timeout under Vercel's suggested 5 s or at it", () => {
    for (const pool of Object.values(SERVERLESS_POOLS)) {
      expect(pool.max).toBeGreaterThanOrEqual(2);
      expect(pool.idleMs).toBeLessThanOrEqual(5000);
    }
  });
});

describe("a real connect on AWS Lambda: the driver's own pool options", () => {
  let saved: string | undefined;
  let mongo: MongoTarget;
  beforeAll(async () => {
    saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = "ndc-test";
    mongo = await mongoTarget();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
    await closeAll();
    await mongo?.close();
    await closeAdmin();
    await closeMysqlAdmin();
  });

  const { max, idleMs } = SERVERLESS_POOLS["aws-lambda"];

  it("pg: max and idleTimeoutMillis chosen, and a user's max kept", async () => {
    const log = captureLogger();
    const chosen = createDatabase(pg({ connectionString: await postgresUrl(), application_name: uniqueName("ndc_plat") }), { name: uniqueName("plat_pg"), logger: log });
    const { client } = await chosen.connect();
    expect(client.options).toMatchObject({ max, idleTimeoutMillis: idleMs });
    expect(log.lines.filter((l) => l.includes("running on AWS Lambda"))).toEqual([
      `info [next-db-connect] ${chosen.stats().name}: running on AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set): pool defaults max: ${max}, idleTimeoutMillis: ${idleMs} (set any of them in the driver options to override)`,
    ]);
    const own = createDatabase(pg({ connectionString: await postgresUrl(), max: 7 }), { name: uniqueName("plat_pg_own"), logger: false });
    expect((await own.connect()).client.options).toMatchObject({ max: 7, idleTimeoutMillis: idleMs });
    await chosen.close();
    await own.close();
  });

  it("mysql2: connectionLimit, maxIdle 0 and idleTimeout chosen, and a user's idleTimeout kept", async () => {
    const chosen = createDatabase(mysql2({ uri: mysqlUrl() }), { name: uniqueName("plat_mysql"), logger: false });
    const core = (client: unknown) => (client as { pool: { config: Record<string, unknown> } }).pool.config;
    expect(core((await chosen.connect()).client)).toMatchObject({ connectionLimit: max, maxIdle: 0, idleTimeout: idleMs });
    const own = createDatabase(mysql2({ uri: mysqlUrl(), idleTimeout: 30_000 }), { name: uniqueName("plat_mysql_own"), logger: false });
    expect(core((await own.connect()).client)).toMatchObject({ connectionLimit: max, idleTimeout: 30_000 });
    await chosen.close();
    await own.close();
  });

  it("mongodb: maxPoolSize and maxIdleTimeMS chosen, and the URL's maxPoolSize kept", async () => {
    const chosen = createDatabase(mongodb({ url: mongo.uri, dbName: "ndc_plat" }), { name: uniqueName("plat_mongo"), logger: false });
    expect((await chosen.connect()).client.options).toMatchObject({ maxPoolSize: max, maxIdleTimeMS: idleMs });
    const own = createDatabase(mongodb({ url: `${mongo.uri}/?maxPoolSize=9`, dbName: "ndc_plat" }), { name: uniqueName("plat_mongo_own"), logger: false });
    expect((await own.connect()).client.options).toMatchObject({ maxPoolSize: 9, maxIdleTimeMS: idleMs });
    await chosen.close();
    await own.close();
  });
});
