/**
 * A client promise taken once, at import, by a library that never asks again:
 * connect-mongo's `MongoStore.create({ clientPromise })` behind
 * express-session, in its own process (test/fixtures/session-app.mjs), the
 * MongoDB wire server down when the app starts and through several connect
 * attempts, then back.
 *
 * With `database.clientPromise()`: during the outage, session routes behind
 * `database` answer 503 with Retry-After, and a session route without it
 * waits; once the database is back, both work (login, then the session read
 * back with its cookie, the session document on the server), without a
 * restart and without an unhandled rejection.
 *
 * Control, same run: the obvious shim `clientPromise = MongoClient.connect(url)`
 * rejects during the outage and stays rejected: the session routes still
 * answer 500 after the database is back, until the process restarts.
 */
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, projectRoot, type Build } from "../support/build.js";
import { startChildApp, type ChildApp } from "../support/child-app.js";
import type { MongoWireServer } from "../support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { sleep } from "../support/wait.js";

const SCRIPT = join(projectRoot, "test", "fixtures", "session-app.mjs");

let build: Build;
beforeAll(async () => {
  build = await buildPackage();
}, 60_000);
afterAll(async () => {
  await build?.remove();
});

/** A wire server that has a port but is down: the app starts in an outage. */
async function downServer(): Promise<MongoWireServer> {
  const { server } = await wireServerTarget();
  await server.stop();
  return server;
}

async function startSessionApp(server: MongoWireServer, client: "package" | "shim"): Promise<ChildApp> {
  return startChildApp(SCRIPT, {
    NDC_INDEX: build.esm("index"),
    NDC_ADAPTER: build.esm("mongodb"),
    NDC_URL: server.uri,
    NDC_CLIENT: client,
  });
}

async function get(url: string, cookie?: string) {
  const started = Date.now();
  const res = await fetch(url, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(30_000) });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    cookie: res.headers.get("set-cookie")?.split(";", 1)[0],
    body: (await res.json()) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

async function report(app: ChildApp): Promise<{ unhandledRejections: number; stats: { failures: number; state: string } | null }> {
  return (await fetch(`${app.url}/__report`)).json() as never;
}

// The start-up outage is the wire server down until the test starts it.
const skipped = needsWireServer("stop() and start() (a start-up outage)");

describe.skipIf(skipped)("connect-mongo with database.clientPromise(), the database down at start-up", () => {
  let server: MongoWireServer;
  let app: ChildApp;

  beforeAll(async () => {
    server = await downServer();
    app = await startSessionApp(server, "package");
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
  });

  it("waits (or answers 503 behind database) through the outage, then works without a restart", async () => {
    // Behind `database`: 503 at once, with Retry-After.
    const guarded = await get(`${app.url}/guarded/login`);
    expect(guarded.status).toBe(503);
    expect(Number(guarded.retryAfter)).toBeGreaterThanOrEqual(1);
    // Without it: the session store waits for its client.
    const waiting = get(`${app.url}/login`);
    let settled = false;
    void waiting.finally(() => (settled = true));
    // An outage longer than one attempt: several failed connects, shared with the requests.
    for (let r = await report(app); (r.stats?.failures ?? 0) < 3; r = await report(app)) await sleep(100);
    expect(settled, "a session request answered while no database was reachable").toBe(false);

    const upAt = Date.now();
    await server.start();
    const login = await waiting;
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/^sid=/);
    const me = await get(`${app.url}/me`, login.cookie);
    expect(me).toMatchObject({ status: 200, body: { user: "ada" } });
    // The store reached the server: the session document is there.
    const check = new MongoClient(server.uri);
    try {
      expect(await check.db("ndc_sessions").collection("sessions").countDocuments()).toBe(1);
    } finally {
      await check.close();
    }
    // The guarded routes work again too, once the cooldown let the package see the database.
    let again = await get(`${app.url}/guarded/login`);
    while (again.status === 503 && Date.now() - upAt < 10_000) again = await get(`${app.url}/guarded/login`);
    expect(again.status).toBe(200);
    expect((await get(`${app.url}/guarded/me`, again.cookie)).body).toEqual({ user: "ada" });
    const r = await report(app);
    expect(r.unhandledRejections).toBe(0);
    expect(app.crashed()).toBe(false);
  }, 60_000);
});

describe.skipIf(skipped)("control: clientPromise = MongoClient.connect(url)", () => {
  let server: MongoWireServer;
  let app: ChildApp;

  beforeAll(async () => {
    server = await downServer();
    app = await startSessionApp(server, "shim");
  });
  afterAll(async () => {
    await app?.stop();
    await server?.stop();
  });

  it("rejects during the outage and stays rejected after the database is back", async () => {
    // express-session writes the login's answer even when saving the session fails,
    // so a session works only if it reads back.
    const roundTrip = async () => {
      const login = await get(`${app.url}/login`);
      const me = await get(`${app.url}/me`, login.cookie);
      return me.status === 200 && me.body.user === "ada" ? "works" : `me: ${me.status}`;
    };
    expect(await roundTrip()).toBe("me: 500");
    await server.start();
    // The database is back: ten tries over two seconds, all still failing.
    const after = [];
    for (let i = 0; i < 10; i++) {
      after.push(await roundTrip().catch((err: Error) => `no answer (${err.message}); app crashed: ${app.crashed()}, said: ${app.output()}`));
      await sleep(200);
    }
    expect(after).toEqual(Array(10).fill("me: 500"));
    expect(app.crashed(), app.output()).toBe(false);
  }, 60_000);
});
