/**
 * Contract 8, "clear limits": in the Edge runtime (where Next.js defines the
 * global `EdgeRuntime`), using a database throws an error that says to use
 * the Node.js runtime, instead of a driver stack trace about `net`.
 */
import { execFileSync } from "node:child_process";
import { createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { closeAll, createDatabase, DatabaseRuntimeError } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { serveNode } from "./support/http.js";
import { postgresUrl, uniqueName } from "./support/postgres.js";
import { buildPackage, projectRoot } from "./support/build.js";

const EDGE = globalThis as { EdgeRuntime?: string };

afterEach(async () => {
  delete EDGE.EdgeRuntime;
  await closeAll();
});

describe("Edge runtime guard", () => {
  it("connect(), route() and the middleware throw DatabaseRuntimeError naming the Node.js runtime", async () => {
    const database = createDatabase(pg({ connectionString: await postgresUrl() }), { name: uniqueName("edge") });
    EDGE.EdgeRuntime = "edge-runtime";

    const err = await database.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseRuntimeError);
    expect((err as Error).message).toMatch(/Edge runtime/);
    expect((err as Error).message).toMatch(/runtime = "nodejs"/);

    const GET = database.route(async () => new Response("reached"));
    await expect(GET(new Request("http://x/"), { params: Promise.resolve({}) })).rejects.toBeInstanceOf(DatabaseRuntimeError);

    const seen: unknown[] = [];
    const v0 = nextConnectV0<any, ServerResponse>({
      onError: (e, _q, res) => {
        seen.push(e);
        res.statusCode = 500;
        res.end();
      },
    }).use(database).get((_q, res) => void res.end("reached"));
    const v1 = createRouter<any, ServerResponse>().use(database).get((_q, res) => void res.end("reached"));
    const s0 = await serveNode((req, res) => void v0(req, res));
    const s1 = await serveNode((req, res) => void v1.run(req, res).catch((e) => {
      seen.push(e);
      res.statusCode = 500;
      res.end();
    }));
    expect((await fetch(s0.url)).status).toBe(500);
    expect((await fetch(s1.url)).status).toBe(500);
    expect(seen).toHaveLength(2);
    for (const e of seen) expect(e).toBeInstanceOf(DatabaseRuntimeError);
    await Promise.all([s0.close(), s1.close()]);
  });

  it("the same database works once the guard is lifted (Node.js runtime)", async () => {
    // The shared target (DATABASE_URL, the local server or an embedded one), not a hard-coded URL.
    const database = createDatabase(pg({ connectionString: await postgresUrl(), max: 1 }), { name: uniqueName("edge_ok") });
    EDGE.EdgeRuntime = "edge-runtime";
    await expect(database.connect()).rejects.toBeInstanceOf(DatabaseRuntimeError);
    delete EDGE.EdgeRuntime;
    const { db } = await database.connect();
    expect((await db.query("SELECT 1 AS one")).rows[0].one).toBe(1);
  });
});

describe("drivers load lazily", () => {
  it("importing an adapter and defining a database does not load the driver (built package, fresh process)", async () => {
    const build = await buildPackage();
    const script = `
      import { createRequire } from "node:module";
      const { createDatabase } = await import(${JSON.stringify(build.esm("index"))});
      const { pg } = await import(${JSON.stringify(build.esm("pg"))});
      const { mysql2 } = await import(${JSON.stringify(build.esm("mysql2"))});
      const { mongodb } = await import(${JSON.stringify(build.esm("mongodb"))});
      createDatabase(pg({ connectionString: process.env.DATABASE_URL }), { name: "a" });
      createDatabase(mysql2({ uri: process.env.MYSQL_URL }), { name: "b" });
      createDatabase(mongodb({ url: process.env.MONGODB_URI }), { name: "c" });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/(pg|mysql2|mongodb)\\//.test(p));
      // Control: the package's own first connect (to a port where nothing listens) loads the driver, and the same check sees it.
      const refused = await createDatabase(pg({ connectionString: "postgres://u@127.0.0.1:1/db" }), { name: "d", logger: false }).connect().then(() => "connected", (e) => e.name);
      const afterControl = Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/pg\\//.test(p));
      console.log(JSON.stringify({ loaded: loaded.length, afterControl: afterControl.length, refused }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH },
      encoding: "utf8",
    });
    await build.remove();
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.loaded).toBe(0);
    // Control: the same check sees the driver once the package has loaded it for a connect.
    expect(result.refused).toBe("DatabaseUnavailableError");
    expect(result.afterControl).toBeGreaterThan(0);
  });
});
