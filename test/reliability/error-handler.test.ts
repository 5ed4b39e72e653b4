/**
 * Regression test for a gap the matrix closes: under next-connect v0 and
 * Express a connection lost in the middle of a request reached the app's
 * error handler as a 500, because those routers pass a handler's error to
 * their own callback, never back through the middleware. `database.onError`
 * (v0's `onError` option, Express error middleware) answers 503 with
 * Retry-After instead. Real PostgreSQL, real HTTP, the backend terminated
 * by the server while the handler's query runs.
 *
 * Controls: the same routers without `database.onError` answer 500.
 */
import express from "express";
import nextConnectV0 from "next-connect-v0";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/index.js";
import { pg } from "../../src/adapters/pg.js";
import { serveNode } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import { closeAdmin, postgresUrl, terminatePgBackends, uniqueName } from "../support/postgres.js";
import { sleep, waitFor } from "../support/wait.js";

afterAll(async () => {
  await closeAdmin();
});

type Req = IncomingMessage & { db: any };
type Kind = "v0" | "express";

async function lostMidRequest(kind: Kind, withOnError: boolean, throwPlain = false) {
  const app = uniqueName(`ndc_onerror_${kind}`);
  const log = captureLogger();
  const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), { name: app, logger: log });
  const handler = async (req: Req, res: ServerResponse) => {
    if (throwPlain) throw new Error("a bug with internal details");
    await req.db.query("SELECT pg_sleep(5)");
    res.end("finished");
  };
  let listener: RequestListener;
  if (kind === "v0") {
    listener = nextConnectV0<Req, ServerResponse>(withOnError ? { onError: database.onError } : {}).use(database).get(handler) as never;
  } else {
    const server = express().use(database).get("/", handler as never);
    if (withOnError) server.use(database.onError);
    listener = server as never;
  }
  const http = await serveNode(listener);
  try {
    const response = fetch(http.url + "/");
    if (!throwPlain) {
      await waitFor(async () => (await database.connect(), terminatePgBackends(app)), (n) => n > 0, 5000, 100);
    }
    const res = await response;
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.text(), log: log.text() };
  } finally {
    await http.close();
    await database.close();
  }
}

describe.each(["v0", "express"] as const)("%s", (kind) => {
  it("with database.onError: a backend terminated mid-query answers 503 with Retry-After", async () => {
    const r = await lostMidRequest(kind, true);
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(r.body)).toMatchObject({ error: "database_unavailable" });
  });

  it("control: without it the same failure is a 500", async () => {
    const r = await lostMidRequest(kind, false);
    expect(r.status).toBe(500);
  });

  it("other errors keep their 500: Express gets them in its own error handler, v0 without the error's message", async () => {
    const r = await lostMidRequest(kind, true, true);
    expect(r.status).toBe(500);
    if (kind === "express") expect(r.body).toContain("<title>Error</title>"); // next(err): Express's handler answered
    else expect(r.body).toBe("Internal Server Error");
  });
});

it("jitter spreads the retries of databases that failed together; jitter 0 keeps them in step (control)", async () => {
  const { freePort } = await import("../support/postgres.js");
  const port = await freePort(); // nothing listens: every connect is refused at once
  const url = `postgres://nobody@127.0.0.1:${port}/none`;
  async function retryTimes(jitter: number): Promise<number[]> {
    const databases = Array.from({ length: 20 }, () =>
      createDatabase(pg({ connectionString: url }), { name: uniqueName("ndc_jitter"), logger: false, retry: { cooldownMs: 2000, jitter } }),
    );
    const failedAt = Date.now();
    await Promise.all(databases.map((d) => d.connect().catch(() => {})));
    const times = databases.map((d) => Date.parse(d.stats().retryAt!) - failedAt);
    await Promise.all(databases.map((d) => d.close()));
    return times;
  }
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const steady = await retryTimes(0);
  const jittered = await retryTimes(0.2);
  expect(spread(steady)).toBeLessThan(100);
  expect(spread(jittered)).toBeGreaterThan(100);
  // Never longer than configured, never shorter than 80% of it (plus the connect attempt's own time).
  for (const t of jittered) {
    expect(t).toBeLessThanOrEqual(2000 + 500);
    expect(t).toBeGreaterThanOrEqual(1600 - 50);
  }
  await sleep(0);
});
