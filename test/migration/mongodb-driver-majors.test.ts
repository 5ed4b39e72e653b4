/**
 * The MongoDB adapter on every driver major an app may run: 4.x (4.17, the
 * issue's app), 5.x, 6.x and 7.x, each installed as the package's
 * `import("mongodb")` resolves it in an app (test/support/driver-sandbox.ts),
 * against the wire-protocol server, through next-connect v1 over real HTTP:
 *
 * - 20 concurrent first requests make one connect; CRUD through `req.db`;
 *   the server sees that major's driver, and one client (one monitoring connection);
 * - `stats()` agrees with the server's connection count;
 * - a duplicate key is the app's error (its own 500), not an outage;
 * - the server stops: 503 with Retry-After, fast, for every request once the
 *   package knows; it starts again: requests succeed without a restart, on
 *   the same client.
 */
import { createRouter } from "next-connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendJson } from "../support/classic-v0-app.js";
import { buildPackage, type Build } from "../support/build.js";
import { MONGODB_MAJORS, sandboxWithMongoDriver, type DriverSandbox } from "../support/driver-sandbox.js";
import { burst, serveNode, type TestServer } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import type { MongoWireServer } from "../support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { uniqueName } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";

let build: Build;
beforeAll(async () => {
  build = await buildPackage();
}, 60_000);
afterAll(async () => {
  await build?.remove();
});

describe.skipIf(needsWireServer("stop()/start() and connection table")).each(MONGODB_MAJORS)("MongoDB driver major $major (npm alias $alias)", ({ alias, major }) => {
  let sandbox: DriverSandbox;
  let server: MongoWireServer;
  let uri: string;
  let http: TestServer;
  let database: import("../../index.js").DatabaseHandle<import("mongodb").MongoClient, import("mongodb").Db>;
  const app = uniqueName(`ndc_major_${major}`);
  const ours = () => server.connections().filter((c) => c.appName === app);

  beforeAll(async () => {
    sandbox = await sandboxWithMongoDriver(alias, build);
    ({ server, uri } = await wireServerTarget());
    database = sandbox.index.createDatabase(sandbox.adapter.mongodb({ url: `${uri}/ndc_majors`, appName: app, maxPoolSize: 3 }), {
      name: app,
      logger: captureLogger(),
      connectTimeoutMs: 2000,
      retry: { cooldownMs: 300, maxCooldownMs: 1000 },
    });
    const router = createRouter<IncomingMessage & { db: any; dbClient: any }, ServerResponse>()
      .use(database)
      .post("/notes", async (req, res) => {
        await req.db.collection("notes").insertOne({ text: `note-${Math.random()}` });
        sendJson(res, 201, { ok: true });
      })
      .get("/notes", async (req, res) => sendJson(res, 200, { count: await req.db.collection("notes").countDocuments() }))
      .post("/dup", async (req, res) => {
        await req.db.collection("notes").insertOne({ _id: "same" });
        sendJson(res, 201, { ok: true });
      })
      .get("/client", (req, res) => sendJson(res, 200, { isClient: req.dbClient instanceof sandbox.driver.MongoClient }));
    http = await serveNode(
      (req, res) => void router.run(req as never, res).catch((err) => sendJson(res, 500, { error: "app_error", code: err?.code ?? null })),
    );
  }, 60_000);

  afterAll(async () => {
    await http?.close();
    await database?.close();
    await server?.stop();
    await sandbox?.remove();
  });

  it(`runs driver ${major}.x: 20 concurrent first requests make one connect; CRUD through req.db; one client on the server`, async () => {
    expect(sandbox.version.startsWith(`${major}.`)).toBe(true);
    const posts = await burst(`${http.url}/notes`, 20, { method: "POST" });
    for (const r of posts) expect(r.status, r.body).toBe(201);
    const list = await fetch(`${http.url}/notes`);
    expect(await list.json()).toEqual({ count: 20 });
    expect(await (await fetch(`${http.url}/client`)).json()).toEqual({ isClient: true });
    expect(database.stats()).toMatchObject({ state: "connected", connects: 1, failures: 0 });
    const connections = ours();
    expect(new Set(connections.map((c) => c.driverVersion?.split(".")[0]))).toEqual(new Set([String(major)]));
    expect(connections.filter((c) => c.operations === 0)).toHaveLength(1); // the one monitor
    expect(connections.length - 1).toBeLessThanOrEqual(3); // maxPoolSize
  });

  it("stats() counts the pool's connections as the server does", async () => {
    const onServer = await waitFor(() => ours().filter((c) => c.operations > 0).length, (n) => n === database.stats().pool?.open, 5000);
    expect(database.stats().pool?.open).toBe(onServer);
    expect(database.stats().pool?.max).toBe(3);
  });

  it("a duplicate key is the app's own error, not an outage", async () => {
    await fetch(`${http.url}/dup`, { method: "POST" });
    const res = await fetch(`${http.url}/dup`, { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "app_error", code: 11000 });
    expect(database.stats()).toMatchObject({ state: "connected", failures: 0 });
  });

  it("the server stops: 503 with Retry-After for every request once the package knows; it starts again: requests succeed on the same client", async () => {
    await server.stop();
    // The request that finds the outage: v1 hands its error back to the middleware, so it is the package's 503
    // too (drivers 6 and 7 may throw it as a bare EPIPE from a write that raced the server's close).
    const first = await fetch(`${http.url}/notes`);
    expect(first.status, await first.clone().text()).toBe(503);
    await waitFor(() => database.stats().state, (state) => state !== "connected", 15_000);
    const after = await burst(`${http.url}/notes`, 10);
    for (const r of after) {
      expect(r.status, r.body).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(r.body)).toMatchObject({ error: "database_unavailable" });
    }
    await server.start();
    const status = await waitFor(async () => (await fetch(`${http.url}/notes`)).status, (s) => s === 200, 15_000, 100);
    expect(status).toBe(200);
    expect(await waitFor(() => database.stats().state, (s) => s === "connected", 10_000)).toBe("connected");
    expect(database.stats().connects).toBe(1); // the same client: the driver reconnected it
  }, 30_000);
});
