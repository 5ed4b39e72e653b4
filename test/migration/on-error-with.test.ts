/**
 * `database.onError.with(appOnError)`: adopting the package's error handler
 * changes nothing for the app's own errors. The same routes of a classic app
 * (real PostgreSQL, real HTTP) under three error handlers:
 *
 * - the app's own `onError` alone (the app before `database.onError`);
 * - `database.onError.with(appOnError)`;
 * - `database.onError` alone (the control: the app's JSON errors become plain text).
 *
 * App errors (a thrown validation error with its 4xx status, a constraint
 * violation, a failed fetch() to another service) must answer byte for byte
 * what the app answered before; a connection lost mid-query must answer the
 * package's 503. Then the same under Express 4 and 5, where error middleware
 * chains (`app.use(database.onError)` before the app's) and composes.
 */
import express5 from "express";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase } from "../../index.js";
import { pg } from "../../src/adapters/pg.js";
import { classicV0Route, sendJson } from "../support/classic-v0-app.js";
import { serveNode, type TestServer } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import { adminQuery, closeAdmin, postgresUrl, uniqueName, withUrl } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";
import nextConnectV0 from "next-connect-v0";

// Express 4 under its npm alias; it has no types of its own here, and its API is Express 5's for what this file uses.
const require = createRequire(import.meta.url);
const express4 = require("express-v4") as typeof express5;
const app = uniqueName("ndc_onerror_with");
const table = uniqueName("ndc_onerror_with_users");
let database: ReturnType<typeof makeDatabase>;
let down: ReturnType<typeof makeDatabase>;
const servers: TestServer[] = [];

function makeDatabase(url: string, name: string) {
  return createDatabase(pg({ connectionString: url, application_name: app, max: 3 }), { name, logger: captureLogger(), connectTimeoutMs: 3000 });
}

beforeAll(async () => {
  const url = await postgresUrl();
  database = makeDatabase(url, app);
  down = makeDatabase(withUrl(url, { port: 1 }), `${app}_down`);
  await adminQuery(`CREATE TABLE ${table} (email text PRIMARY KEY)`);
  await adminQuery(`INSERT INTO ${table} VALUES ('ada@example.com')`);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await adminQuery(`DROP TABLE IF EXISTS ${table}`);
  await closeAll();
  await closeAdmin();
});

/** The app's own error handler: its status (or 500) and a JSON body with the message. */
function appOnError(err: any, _req: IncomingMessage, res: ServerResponse, _next?: unknown): void {
  sendJson(res, typeof err?.status === "number" ? err.status : 500, { error: "request_failed", message: err?.message ?? String(err) });
}

/** The routes, as handlers that throw: each router style hands the error to its error handler. */
const routes: Record<string, (db: any) => Promise<unknown>> = {
  "/validation": async () => {
    throw Object.assign(new Error("title is required"), { status: 422 });
  },
  "/bug": async () => {
    throw new Error("cannot read properties of undefined (reading 'id')");
  },
  "/duplicate": (db) => db.query(`INSERT INTO ${table} VALUES ('ada@example.com')`),
  "/other-service": () => fetch("http://127.0.0.1:1/"),
  "/slow": (db) => db.query("SELECT pg_sleep(10)"),
};
const APP_ERRORS = ["/validation", "/bug", "/duplicate", "/other-service"];

interface Answer {
  status: number;
  type: string | null;
  retryAfter: string | null;
  body: string;
}

async function get(server: TestServer, path: string): Promise<Answer> {
  const res = await fetch(server.url + path);
  return { status: res.status, type: res.headers.get("content-type"), retryAfter: res.headers.get("retry-after"), body: await res.text() };
}

/** `/slow` with its backend terminated by the server while the query runs. */
async function lostMidQuery(server: TestServer): Promise<Answer> {
  const answer = get(server, "/slow");
  await waitFor(
    () => adminQuery<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
      [app],
    ).then((rows) => rows[0]!.n),
    (n) => n > 0,
    10_000,
    50,
  );
  return answer;
}

async function serve(listener: RequestListener): Promise<TestServer> {
  const server = await serveNode(listener);
  servers.push(server);
  return server;
}

function v0App(onError: (...args: any[]) => unknown): RequestListener {
  const handler = nextConnectV0<IncomingMessage & { db: any }, ServerResponse>({ onError }).use(database);
  for (const [path, run] of Object.entries(routes)) handler.get(path, async (req, res) => sendJson(res, 200, await run(req.db)));
  return handler as never;
}

describe("next-connect v0: nextConnect({ onError: database.onError.with(appOnError) })", () => {
  let before: TestServer;
  let composed: TestServer;
  let plain: TestServer;

  beforeAll(async () => {
    before = await serve(v0App(appOnError));
    composed = await serve(v0App(database.onError.with(appOnError)));
    plain = await serve(v0App(database.onError));
  });

  it("the app's own errors answer exactly as before adopting it", async () => {
    for (const path of APP_ERRORS) {
      const original = await get(before, path);
      expect(original.type, path).toContain("application/json");
      expect(await get(composed, path), path).toEqual(original);
    }
    expect((await get(before, "/validation")).status).toBe(422);
    expect(JSON.parse((await get(before, "/duplicate")).body).message).toMatch(/duplicate key/);
  });

  it("control: database.onError alone turns the app's JSON errors into plain text", async () => {
    for (const path of APP_ERRORS) {
      const original = await get(before, path);
      const changed = await get(plain, path);
      expect(changed.type, path).toContain("text/plain");
      expect(changed.body, path).not.toEqual(original.body);
    }
  });

  it("a connection lost mid-query gets the package's 503; control: the app's handler alone answers 500", async () => {
    const ours = await lostMidQuery(composed);
    expect(ours.status).toBe(503);
    expect(Number(ours.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(ours.body)).toMatchObject({ error: "database_unavailable" });
    await database.connect(); // the probe the failure started has settled
    await waitFor(() => database.stats().state, (s) => s === "connected", 10_000);
    const control = await lostMidQuery(before);
    expect(control.status).toBe(500);
    expect(JSON.parse(control.body)).toMatchObject({ error: "request_failed" });
  }, 60_000);

  it("with() rejects what is not a handler, naming it", () => {
    expect(() => database.onError.with(undefined as never)).toThrow(/database\.onError\.with\(handler\).*got undefined/);
  });

  it("the classic route is unchanged: req.db works under the composed handler", async () => {
    const server = await serve(
      classicV0Route(database, async (db) => (await db.query(`SELECT email FROM ${table}`)).rows, database.onError.with(appOnError)) as never,
    );
    const res = await get(server, "/");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual([{ email: "ada@example.com" }]);
  });
});

describe.each([
  { name: "Express 4", express: express4, pkg: "express-v4", major: "4." },
  { name: "Express 5", express: express5, pkg: "express", major: "5." },
])("$name: app.use(database), database.onError", ({ express, pkg, major }) => {
  it("runs that major", () => {
    expect((require(`${pkg}/package.json`) as { version: string }).version.startsWith(major)).toBe(true);
  });

  /** An Express app the way one is written: async handlers forward their errors with next(err). */
  function expressApp(db: typeof database, errorHandlers: Array<(...args: any[]) => unknown>) {
    const server = express();
    server.use(db);
    for (const [path, run] of Object.entries(routes)) {
      server.get(path, (req, res, next) => void run((req as any).db).then((body) => sendJson(res, 200, body), next));
    }
    server.get("/notes", (req, res, next) => void (req as any).db.query(`SELECT email FROM ${table}`).then((r: any) => sendJson(res, 200, r.rows), next));
    for (const handler of errorHandlers) server.use(handler as never);
    return server as unknown as RequestListener;
  }

  let before: TestServer;
  let chained: TestServer;
  let composed: TestServer;

  beforeAll(async () => {
    before = await serve(expressApp(database, [appOnError]));
    chained = await serve(expressApp(database, [database.onError, appOnError]));
    composed = await serve(expressApp(database, [database.onError.with(appOnError)]));
  });

  it("req.db round trip, and a database that is down answers 503 by itself", async () => {
    const ok = await get(chained, "/notes");
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual([{ email: "ada@example.com" }]);
    const downServer = await serve(expressApp(down, [down.onError, appOnError]));
    const res = await get(downServer, "/notes");
    expect(res.status).toBe(503);
    expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it("the app's own errors reach the app's handler unchanged, chained or composed", async () => {
    for (const path of APP_ERRORS) {
      const original = await get(before, path);
      expect(await get(chained, path), path).toEqual(original);
      expect(await get(composed, path), path).toEqual(original);
    }
  });

  it("a connection lost mid-query gets 503 from database.onError, chained or composed; control: the app's handler alone answers 500", async () => {
    for (const server of [chained, composed]) {
      const r = await lostMidQuery(server);
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      await waitFor(async () => (await database.connect().then(() => database.stats().state, () => "down")), (s) => s === "connected", 10_000);
    }
    const control = await lostMidQuery(before);
    expect(control.status).toBe(500);
    await waitFor(async () => (await database.connect().then(() => database.stats().state, () => "down")), (s) => s === "connected", 10_000);
  }, 60_000);
});
