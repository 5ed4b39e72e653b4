/**
 * Contract 5: lazy and build-safe. Defining or importing a database never
 * connects and never throws; `next build` (which evaluates route modules with
 * no database environment variables) works; the first real use reports a
 * missing setting by name.
 *
 * Connection counts are the servers' own (unique application_name, unique
 * MariaDB user, a private wire server). Controls: a module that warms its pools
 * at import, whose connections the same counts see (so a background connect
 * of ours would be seen too), and the naive module-scope `new Pool()` +
 * `await pool.query()`, which fails the import in an empty environment.
 */
import { createRouter } from "next-connect";
import { execFile } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAll, createDatabase, DatabaseConfigError } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { buildPackage, type Build } from "./support/build.js";
import { serveNode, type TestServer } from "./support/http.js";
import { createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./support/mysql.js";
import { needsWireServer, wireServerTarget, type WireServerTarget } from "./support/mongodb-target.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

const ROOT = join(import.meta.dirname, "..");
const servers: TestServer[] = [];

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await closeAll();
});

describe("defining is free: no throw, no connection", () => {
  it("missing settings (unset env vars) and even a missing adapter never throw at definition", () => {
    expect(() => {
      createDatabase(pg({ connectionString: undefined }), { name: uniqueName("lazy_pg_missing"), logger: false });
      createDatabase(mysql2({ uri: undefined }), { name: uniqueName("lazy_mysql_missing"), logger: false });
      createDatabase(mongodb({ url: undefined, dbName: undefined }), { name: uniqueName("lazy_mongo_missing"), logger: false });
      createDatabase(undefined as any, { name: uniqueName("lazy_no_adapter"), logger: false });
      // Malformed, not just missing: still reported at first use, not here.
      createDatabase(pg({ connectionString: "not a url", max: -1 }), { name: uniqueName("lazy_pg_bad"), logger: false });
      createDatabase(mysql2("mysql://x" as any), { name: uniqueName("lazy_mysql_bad"), logger: false });
      createDatabase(pg(), { name: 42 as any, retry: "soon" as any, logger: false });
    }).not.toThrow();
  });

  describe("with a valid configuration, importing and defining open nothing until the first use", () => {
    const env = [
      "NDC_FIXTURE_PG_URL", "NDC_FIXTURE_PG_APP", "NDC_FIXTURE_MYSQL_URL", "NDC_FIXTURE_MONGO_URL", "NDC_FIXTURE_MONGO_APP", "NDC_FIXTURE_NAME",
      "NDC_CONTROL_PG_URL", "NDC_CONTROL_PG_APP", "NDC_CONTROL_MYSQL_URL", "NDC_CONTROL_MONGO_URL", "NDC_CONTROL_MONGO_APP",
    ] as const;
    const saved = Object.fromEntries(env.map((k) => [k, process.env[k]]));
    // The servers' own counts need the wire server's connection table for MongoDB.
    const withMongo = !needsWireServer("connection table by appName (lazy-build-safe: nothing opened at import)");
    let user: MysqlTestUser;
    let controlUser: MysqlTestUser;
    let wire: WireServerTarget | null = null;
    beforeAll(async () => {
      user = await createMysqlUser("ndc_lazy");
      controlUser = await createMysqlUser("ndc_lazy_ctl");
      if (withMongo) wire = await wireServerTarget();
    });
    afterEach(() => {
      for (const k of env) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });
    afterAll(async () => {
      await closeAll();
      await user?.drop();
      await controlUser?.drop();
      await wire?.close();
    });

    it(`${withMongo ? "pg, mysql2 and mongodb" : "pg and mysql2"}: server-side counts stay 0 after import, definition and stats(), while a module that warms its pools at import (control) is seen connecting; the first connect() opens the pool`, async () => {
      const app = uniqueName("ndc_lazy_pg");
      const mongoApp = uniqueName("ndc_lazy_mongo");
      const controlPgApp = uniqueName("ndc_lazy_ctl_pg");
      const controlMongoApp = uniqueName("ndc_lazy_ctl_mongo");
      process.env.NDC_FIXTURE_PG_URL = process.env.NDC_CONTROL_PG_URL = await postgresUrl();
      process.env.NDC_FIXTURE_PG_APP = app;
      process.env.NDC_CONTROL_PG_APP = controlPgApp;
      process.env.NDC_FIXTURE_MYSQL_URL = user.url;
      process.env.NDC_CONTROL_MYSQL_URL = controlUser.url;
      if (wire) {
        process.env.NDC_FIXTURE_MONGO_URL = process.env.NDC_CONTROL_MONGO_URL = wire.uri;
        process.env.NDC_FIXTURE_MONGO_APP = mongoApp;
        process.env.NDC_CONTROL_MONGO_APP = controlMongoApp;
      }
      const byApp = (name: string) => wire?.server.connections().filter((c) => c.appName === name).length ?? 0;

      // Importing the modules that define them, as every route that imports lib/database.ts does,
      // and, in the same moment, the control that starts its connects at import.
      vi.resetModules();
      process.env.NDC_FIXTURE_NAME = uniqueName("lazy_pg");
      const { database: pgDb } = await import("./fixtures/lib-database.js");
      process.env.NDC_FIXTURE_NAME = uniqueName("lazy_mysql");
      const { database: mysqlDb } = await import("./fixtures/lib-database-mysql.js");
      process.env.NDC_FIXTURE_NAME = uniqueName("lazy_mongo");
      const { database: mongoDb } = await import("./fixtures/lib-database-mongo.js");
      const control = await import("./fixtures/eager-pools.js");
      try {
        const ours = wire ? [pgDb, mysqlDb, mongoDb] : [pgDb, mysqlDb];
        // Status pages read these without a request having connected.
        for (const d of ours) expect(d.stats()).toMatchObject({ state: "idle", connects: 0, pool: null });

        // Once the control's background connects show on every server, one started by ours at import would show too.
        const seen = await waitFor(
          async () => ({ pg: await pgConnectionCount(controlPgApp), mysql: await mysqlConnectionCount(controlUser.user), mongo: byApp(controlMongoApp) }),
          (c) => c.pg > 0 && c.mysql > 0 && (!wire || c.mongo > 0),
          10_000,
        );
        expect(seen.pg).toBeGreaterThan(0);
        expect(seen.mysql).toBeGreaterThan(0);
        if (wire) expect(seen.mongo).toBeGreaterThan(0);

        expect(await pgConnectionCount(app)).toBe(0);
        expect(await mysqlConnectionCount(user.user)).toBe(0);
        expect(byApp(mongoApp)).toBe(0);

        // The counters do see ours too: the first use opens each pool.
        await (await pgDb.connect()).db.query("SELECT 1");
        await (await mysqlDb.connect()).db.query("SELECT 1");
        expect(await pgConnectionCount(app)).toBeGreaterThan(0);
        expect(await mysqlConnectionCount(user.user)).toBeGreaterThan(0);
        if (wire) {
          await (await mongoDb.connect()).db.command({ ping: 1 });
          expect(byApp(mongoApp)).toBeGreaterThan(0);
        }
      } finally {
        await control.closeEagerPools();
        await Promise.all([pgDb.close(), mysqlDb.close(), mongoDb.close()]);
      }
    });
  });
});

describe("the first use names the missing setting", () => {
  const cases = [
    { label: "pg({ connectionString: undefined })", setting: "connectionString", make: () => pg({ connectionString: undefined }) },
    { label: "mysql2({ uri: undefined })", setting: "uri", make: () => mysql2({ uri: undefined }) },
    { label: "mongodb({ url: undefined, dbName: undefined })", setting: "url", make: () => mongodb({ url: undefined, dbName: undefined }) },
    { label: "createDatabase(undefined)", setting: "adapter", make: () => undefined as any },
  ];

  it.each(cases)("$label: connect() rejects with DatabaseConfigError naming $setting, every time", async ({ setting, make }) => {
    const database = createDatabase(make(), { name: uniqueName("lazy_cfg"), logger: false });
    for (let i = 0; i < 2; i++) {
      const err = await database.connect().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseConfigError);
      expect((err as DatabaseConfigError).setting).toBe(setting);
      expect((err as Error).message).toContain(setting);
    }
    expect(database.stats()).toMatchObject({ connects: 0, pool: null });
  });

  it.each(cases)("$label: a request through createRouter().use(database) gets the error, naming $setting", async ({ setting, make }) => {
    const database = createDatabase(make(), { name: uniqueName("lazy_cfg_http"), logger: false });
    const router = createRouter<IncomingMessage, ServerResponse>()
      .use(database)
      .get((_req, res) => void res.end("handler ran"));
    const server = await serveNode((req, res) => {
      router.run(req, res).catch((e: any) => {
        res.statusCode = 500;
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ config: e instanceof DatabaseConfigError, setting: e?.setting, message: e?.message }));
      });
    });
    servers.push(server);
    const res = await fetch(`${server.url}/api/notes`);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toMatchObject({ config: true, setting });
    expect(body.message).toContain(setting);
  });
});

describe("build time: the built package in a process with an empty environment", () => {
  let build: Build | undefined;
  beforeAll(async () => {
    build = await buildPackage();
  });
  afterAll(async () => {
    await build?.remove();
  });

  /** `node -e` with no environment at all: no DATABASE_URL, MYSQL_URL, MONGODB_URI, PG*, USER. */
  function runEmptyEnv(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, env: {}, timeout: 15_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  const defineAll = (imp: (file: string) => string) => `
    ${imp("index")}
    ${imp("pg")}
    ${imp("mysql2")}
    ${imp("mongodb")}
    const databases = [
      createDatabase(pg({ connectionString: process.env.DATABASE_URL, max: 5 })),
      createDatabase(mysql2({ uri: process.env.MYSQL_URL }), { name: "mysql" }),
      createDatabase(mongodb({ url: process.env.MONGODB_URI, dbName: process.env.MONGODB_DB }), { name: "mongo" }),
      createDatabase(undefined, { name: "none" }),
    ];
    // What a build touches: the exports, typeof checks, stats() on a status page.
    for (const d of databases) { if (typeof d !== "function" || typeof d.connect !== "function") throw new Error("bad export"); d.stats(); }
  `;

  it("ESM (dist/*.js): imports and defines every adapter, exits 0 with no output", async () => {
    const url = (f: string) => build!.esm(f as "index");
    const script = defineAll((f) =>
      f === "index" ? `import { createDatabase } from ${JSON.stringify(url(f))};` : `import { ${f} } from ${JSON.stringify(url(f))};`,
    );
    const result = await runEmptyEnv(["--input-type=module", "-e", script]);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("CJS (dist/*.cjs): requires and defines every adapter, exits 0 with no output", async () => {
    const file = (f: string) => JSON.stringify(build!.cjs(f as "index"));
    const script = defineAll((f) => (f === "index" ? `const { createDatabase } = require(${file(f)});` : `const { ${f} } = require(${file(f)});`));
    const result = await runEmptyEnv(["-e", script]);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("control: module-scope `new Pool({ connectionString: process.env.DATABASE_URL })` + `await pool.query()` fails the import", async () => {
    const script = `
      import pg from "pg";
      export const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
      await pool.query("SELECT 1");
    `;
    const result = await runEmptyEnv(["--input-type=module", "-e", script]);
    console.info(`[lazy-build-safe] control exit code ${result.code}: ${result.stderr.split("\n").find((l) => /^\w*error\b/i.test(l))?.trim()}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/error/i);
  });
});
