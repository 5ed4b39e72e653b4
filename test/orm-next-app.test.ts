/**
 * The libraries on top of the pool under the real `next build` + `next start`
 * (test/fixtures/orm-app): mongoose, Drizzle (pg), Kysely (MariaDB), Prisma 7
 * over @prisma/adapter-pg, and Auth.js's MongoDB adapter over
 * `database.clientPromise()`. Each has a Pages Router route (next-connect,
 * `router.use(database)`) and an App Router `database.route()` handler over
 * the same `lib/*.ts` definition, so two bundles evaluate it; and each has a
 * control: the library's own usual Next.js singleton, in the same app and run.
 *
 * - CRUD through the library's own API, from both bundles at once; the rows
 *   are read back on the server. One pool on the server for ours; the
 *   control's count under `next start` beside it.
 * - An outage (every database down at once): ours answers 503 with
 *   Retry-After in both bundles, the control its 500; both after it.
 * - A start-up outage (a second `next start` of the same build, with every
 *   database down): ours 503 then 200 without a restart; the with-mongodb
 *   clientPromise that Auth.js's adapter holds stays rejected.
 *
 * Every count is the server's (pg_stat_activity by application_name, MariaDB's
 * processlist by user, the wire server's sockets by appName). Pools have one
 * connection each (max 1), so connections on the server count pools.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "./support/build.js";
import { ensureBuilt } from "./support/dist.js";
import { closeMysqlAdmin } from "./support/mysql.js";
import { buildNextFixture, nextStart, type NextServer } from "./support/next-app.js";
import { startOrmServers, type Library, type LibraryName, type OrmServers, type ServerCount } from "./support/orm-app.js";
import { closeAdmin } from "./support/postgres.js";
import { prismaGenerate } from "./support/prisma.js";
import { waitFor } from "./support/wait.js";

/** Pools per role under `next start`: ours is one per process; a control is one per bundle unless it keeps its pool on globalThis. */
const EXPECTED_POOLS: Record<LibraryName, { ours: number; control: number }> = {
  // with-mongodb-mongoose caches on global.mongoose in every environment, and mongoose is one module (Next's server external).
  mongoose: { ours: 1, control: 1 },
  drizzle: { ours: 1, control: 2 }, // globalThis only outside production
  kysely: { ours: 1, control: 2 }, // module scope
  prisma: { ours: 1, control: 2 }, // globalForPrisma only outside production
  authjs: { ours: 1, control: 2 }, // with-mongodb: global only in development
};

let servers: OrmServers;
let app: { dir: string; remove(): Promise<void> };
let server: NextServer | undefined;
const started = Date.now();
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  ensureBuilt();
  servers = await startOrmServers();
  app = await buildNextFixture("orm-app", {
    env: servers.env,
    prepare: (dir) => prismaGenerate(dir, { __PRISMA_TABLE__: servers.prismaTable }),
  });
  figures.buildSeconds = Math.round((Date.now() - started) / 1000);
  server = await nextStart(app.dir, servers.env);
}, 480_000);

afterAll(async () => {
  server?.kill();
  await server?.exited;
  figures.wallSeconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(projectRoot, "test", "artifacts", `orm-next-app-figures-${process.pid}.json`), JSON.stringify(figures, null, 2) + "\n");
  console.log(`[orm-next-app] ${JSON.stringify(figures)}`);
  await servers?.close();
  await closeMysqlAdmin();
  await closeAdmin();
  await app?.remove();
}, 60_000);

interface Reply {
  status: number;
  retryAfter: string | null;
  body: any;
}

async function get(path: string, base = server!.url): Promise<Reply> {
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Next's own 500 is text
    }
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
  } catch (err) {
    return { status: 0, retryAfter: null, body: String((err as Error).name) };
  }
}

/** The four routes of a library: ours and the control's, in the Pages and the App Router bundle. */
function routes(lib: LibraryName) {
  return {
    ours: { pages: `/api/${lib}`, app: `/api/app/${lib}` },
    control: { pages: `/api/control/${lib}`, app: `/api/app/control/${lib}` },
  };
}

const byName = (name: LibraryName): Library => servers.libraries.find((l) => l.name === name)!;
const NAMES: LibraryName[] = ["mongoose", "drizzle", "kysely", "prisma", "authjs"];

describe("the libraries on top of the pool under next build + next start", () => {
  it.each(NAMES)("%s: CRUD through its own API from both bundles at once; ours one pool on the server, the control its own count", async (name) => {
    const lib = byName(name);
    const r = routes(name);
    const n = 8;
    const calls = Array.from({ length: n }, (_, i) => {
      const bundle = i % 2 === 0 ? "pages" : "app";
      return [
        get(`${r.ours[bundle]}?text=${name}-ours-${i}`).then((reply) => ({ reply, bundle })),
        get(`${r.control[bundle]}?text=${name}-control-${i}`).then((reply) => ({ reply, bundle })),
      ];
    }).flat();
    for (const { reply, bundle } of await Promise.all(calls)) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.via).toBe(bundle);
    }
    // What the routes wrote, read on the server: every update applied, every second row deleted.
    const rows = await lib.stored(`${name}-`);
    const expected = ["ours", "control"].flatMap((role) => Array.from({ length: n }, (_, i) => `${name}-${role}-${i}`));
    expect(rows.map((row) => row.text).sort()).toEqual(expected.sort());
    expect(rows.every((row) => row.done)).toBe(true);

    const ours: ServerCount = await lib.count("ours");
    const control: ServerCount = await lib.count("control");
    figures[`${name}.pools`] = { ours, control };
    expect(ours.pools).toBe(EXPECTED_POOLS[name].ours);
    expect(control.pools).toBe(EXPECTED_POOLS[name].control);
    // MongoDB: a pooled connection and a monitor per client (maxPoolSize 1).
    expect(ours.connections).toBeLessThanOrEqual(2 * ours.pools);
  }, 120_000);

  it("an outage of every database: ours 503 with Retry-After in both bundles, the control 500; both answer again after it, without a restart", async () => {
    for (const name of NAMES) for (const path of Object.values(routes(name).ours)) expect((await get(path)).status).toBe(200);
    await servers.down();
    const during = await Promise.all(
      NAMES.map(async (name) => {
        const r = routes(name);
        // The first request races the driver's discovery of the outage (recorded); the ones after it must be 503.
        const first = await Promise.all(Object.values(r.ours).map((path) => get(path)));
        const ours = await Promise.all(Object.values(r.ours).map((path) => waitFor(() => get(path), (a) => a.status === 503, 20_000, 100)));
        const control = await Promise.all(Object.values(r.control).map((path) => get(path)));
        return { name, first, ours, control };
      }),
    );
    for (const { name, first, ours, control } of during) {
      figures[`${name}.outage`] = {
        first: first.map((a) => a.status),
        ours: ours.map((a) => `${a.status} Retry-After: ${a.retryAfter}`),
        control: control.map((a) => `${a.status} Retry-After: ${a.retryAfter}`),
      };
      for (const answer of ours) {
        expect(answer.status, name).toBe(503);
        expect(answer.retryAfter, name).toMatch(/^\d+$/);
        expect(answer.body, name).toMatchObject({ error: "database_unavailable" });
      }
      for (const answer of control) {
        expect(answer.status, name).toBe(500);
        expect(answer.retryAfter, name).toBeNull();
      }
    }
    const back = Date.now();
    await servers.up();
    await Promise.all(
      NAMES.map(async (name) => {
        const r = routes(name);
        const ours = await Promise.all(Object.values(r.ours).map((path) => waitFor(() => get(path), (a) => a.status === 200, 40_000, 200)));
        const oursMs = Date.now() - back;
        const control = await Promise.all(Object.values(r.control).map((path) => waitFor(() => get(path), (a) => a.status === 200, 40_000, 200)));
        figures[`${name}.recovery`] = { ours: ours.map((a) => a.status), oursMs, control: control.map((a) => a.status), controlMs: Date.now() - back };
        for (const answer of [...ours, ...control]) expect(answer.status, name).toBe(200);
      }),
    );
    // Still one pool each after the outage: never more connections than one pool holds (MongoDB: plus its monitor,
    // which the driver reopens on its own schedule; SQL: a backend of the cut connection may linger a moment).
    for (const name of NAMES) {
      const limit = byName(name).database.startsWith("MongoDB") ? 2 : 1;
      const after = await waitFor(() => byName(name).count("ours"), (c) => c.connections <= limit, 10_000, 200);
      figures[`${name}.afterOutage`] = after;
      expect(after.connections, name).toBeGreaterThanOrEqual(1);
      expect(after.connections, name).toBeLessThanOrEqual(limit);
    }
  }, 180_000);

  it("a start-up outage (next start with every database down): ours 503 then 200 without a restart; the clientPromise Auth.js holds stays rejected", async () => {
    server!.kill();
    await server!.exited;
    await servers.down();
    server = await nextStart(app.dir, servers.env);
    const during = await Promise.all(
      NAMES.map(async (name) => {
        const r = routes(name);
        const ours = await Promise.all(Object.values(r.ours).map((path) => get(path)));
        const control = await Promise.all(Object.values(r.control).map((path) => get(path)));
        return { name, ours, control };
      }),
    );
    for (const { name, ours, control } of during) {
      figures[`${name}.coldOutage`] = { ours: ours.map((a) => `${a.status} Retry-After: ${a.retryAfter}`), control: control.map((a) => a.status) };
      for (const answer of ours) {
        expect(answer.status, name).toBe(503);
        expect(answer.retryAfter, name).toMatch(/^\d+$/);
      }
      for (const answer of control) expect(answer.status, name).toBe(500);
    }
    await servers.up();
    const after = await Promise.all(
      NAMES.map(async (name) => {
        const r = routes(name);
        const ours = await Promise.all(Object.values(r.ours).map((path) => waitFor(() => get(path), (a) => a.status === 200, 40_000, 200)));
        // The control recovers when its pattern retries the connect; the with-mongodb clientPromise never does.
        const control = await Promise.all(
          Object.values(r.control).map((path) => waitFor(() => get(path), (a) => a.status === 200 || name === "authjs", 40_000, 200)),
        );
        return { name, ours, control };
      }),
    );
    for (const { name, ours, control } of after) {
      figures[`${name}.coldRecovery`] = { ours: ours.map((a) => a.status), control: control.map((a) => a.status) };
      for (const answer of ours) expect(answer.status, name).toBe(200);
      for (const answer of control) expect(answer.status, name).toBe(name === "authjs" ? 500 : 200);
    }
    // Ours for Auth.js is up on the same server; the control's rejected promise is still all it has: nothing on the server.
    for (let i = 0; i < 3; i++) expect((await get(routes("authjs").control.pages)).status).toBe(500);
    expect(await byName("authjs").count("control")).toEqual({ connections: 0, pools: 0 });
    expect((await byName("authjs").count("ours")).pools).toBe(1);
  }, 180_000);
});
