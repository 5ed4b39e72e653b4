/**
 * Prisma 7 with its `pg` driver adapter over the managed pool:
 * `pg(config, { db: (pool) => new PrismaClient({ adapter: new PrismaPg(pool) }) })`.
 *
 * `prisma generate` runs here without network access only when the CLI is
 * told where its schema engine is: every CLI command first downloads that
 * engine from Prisma's binary host (unreachable here), though `generate`
 * never runs it. PRISMA_SCHEMA_ENGINE_BINARY, Prisma's own setting for custom
 * engines, points at a stub that fails if run; the generated client (the
 * `prisma-client` generator, query compiler in WebAssembly, no engine binary)
 * then runs over the package's pool. The table is made with SQL: `prisma
 * migrate` and `db push` need the real schema engine.
 *
 * - CRUD through Prisma inside next-connect v1, `api()` and `route()`;
 * - one pool, counted on the server: PrismaPg recognises the package's Pool
 *   (`instanceof pg.Pool`) and does not open one of its own;
 * - an outage (TCP proxy stopped): the pool's idle connections fail first and
 *   tell the package, so requests get 503 with Retry-After; recovery after it.
 *   A request whose query is cut mid-flight may still get Prisma's own error:
 *   Prisma converts the pool's error into its own (the original is not kept
 *   as a cause), so the package cannot tell it from the app's. The pool still
 *   reports it, and the requests that start afterwards get the 503.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { projectRoot } from "./support/build.js";
import { captureLogger } from "./support/logger.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { serveRouters, timedGet } from "./support/routes.js";
import { proxyInFrontOf, type TcpProxy } from "./support/tcp-proxy.js";
import { waitFor } from "./support/wait.js";

const run = promisify(execFile);
const dir = join(projectRoot, "test", "artifacts", `prisma-${process.pid}`);
const table = uniqueName("ndc_prisma_notes");
let PrismaClient: new (options: { adapter: unknown }) => any;
let proxy: TcpProxy;

/** Runs `prisma generate` offline into `dir`; the schema engine it insists on is a stub that is never run. */
async function generate(): Promise<void> {
  await mkdir(join(dir, "prisma"), { recursive: true });
  await writeFile(
    join(dir, "prisma", "schema.prisma"),
    `generator client {\n  provider = "prisma-client"\n  output   = "../generated"\n}\n` +
      `datasource db {\n  provider = "postgresql"\n}\n` +
      `model Note {\n  id   Int    @id @default(autoincrement())\n  text String\n  @@map("${table}")\n}\n`,
  );
  const stub = join(dir, "schema-engine-stub");
  await writeFile(stub, "#!/bin/sh\necho 'schema engine stub: not available offline' >&2\nexit 1\n");
  await chmod(stub, 0o755);
  await run(process.execPath, [join(projectRoot, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", "prisma/schema.prisma"], {
    cwd: dir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
    timeout: 120_000,
  });
}

beforeAll(async () => {
  await generate();
  ({ PrismaClient } = await import(pathToFileURL(join(dir, "generated", "client.ts")).href));
  await adminQuery(`CREATE TABLE ${table} (id serial PRIMARY KEY, text text NOT NULL)`);
  proxy = await proxyInFrontOf(await postgresUrl(), 5432);
}, 180_000);

afterAll(async () => {
  await proxy?.down();
  await adminQuery(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
  await closeAdmin();
  await rm(dir, { recursive: true, force: true });
});

function viaProxy(): string {
  const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
}

describe("Prisma 7 (PrismaPg) over the managed pg pool", () => {
  it("CRUD through Prisma inside next-connect, api() and route(), on one pool counted on the server", async () => {
    const app = uniqueName("ndc_prisma");
    const database = createDatabase(
      pg({ connectionString: viaProxy(), application_name: app, max: 3 }, { db: (pool) => new PrismaClient({ adapter: new PrismaPg(pool) }) }),
      { name: app, logger: captureLogger() },
    );
    let n = 0;
    const targets = await serveRouters(database, async (prisma) => {
      const mine = `prisma-${++n}`;
      const note = await prisma.note.create({ data: { text: mine } });
      await prisma.note.update({ where: { id: note.id }, data: { text: `${mine}-renamed` } });
      const gone = await prisma.note.create({ data: { text: `${mine}-gone` } });
      await prisma.note.delete({ where: { id: gone.id } });
      return prisma.note.findMany({ orderBy: { id: "asc" }, select: { text: true } });
    });
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(targets.all[i % 3]!.url).then((r) => r.status)));
      expect(answers.every((s) => s === 200)).toBe(true);
      const rows = await adminQuery<{ text: string }>(`SELECT text FROM ${table} ORDER BY id`);
      expect(rows.map((r) => r.text).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `prisma-${i + 1}-renamed`).sort());
      // One pool: the package's, never more connections than its max, and nothing opened by PrismaPg itself.
      const onServer = await pgConnectionCount(app);
      expect(onServer).toBeGreaterThan(0);
      expect(onServer).toBeLessThanOrEqual(3);
      expect(database.stats()).toMatchObject({ connects: 1, pool: { max: 3 } });
      await database.close();
      expect(await waitFor(() => pgConnectionCount(app), (k) => k === 0)).toBe(0);
    } finally {
      await targets.close();
      await database.close();
    }
  });

  it("an outage: 503 with Retry-After (Prisma's own error at most for a request cut mid-query), then recovery", async () => {
    const app = uniqueName("ndc_prisma_outage");
    const database = createDatabase(
      pg({ connectionString: viaProxy(), application_name: app, max: 3 }, { db: (pool) => new PrismaClient({ adapter: new PrismaPg(pool) }) }),
      { name: app, logger: captureLogger() },
    );
    const targets = await serveRouters(database, async (prisma) => prisma.note.count());
    try {
      expect((await timedGet(targets.route.url)).status).toBe(200);
      await proxy.down();
      const first = await timedGet(targets.v1.url);
      expect([500, 503]).toContain(first.status); // 500 only if its query met the outage before the pool's events did
      const later = await waitFor(() => timedGet(targets.api.url), (a) => a.status === 503, 10_000, 100);
      expect(later.retryAfter).toMatch(/^\d+$/);
      await proxy.up();
      expect((await waitFor(() => timedGet(targets.route.url), (a) => a.status === 200, 20_000, 200)).status).toBe(200);
    } finally {
      await proxy.up();
      await targets.close();
      await database.close();
    }
  });
});
