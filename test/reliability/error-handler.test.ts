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
import { createDatabase } from "../../index.js";
import { pg } from "../../src/adapters/pg.js";
import { serveNode } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import { adminQuery, closeAdmin, postgresUrl, terminatePgBackends, uniqueName } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";

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
      // Mid-query: once the server shows the handler's pg_sleep running (killing the pool's first,
      // idle connection instead would let the handler's query run on a new one and answer 200).
      const running = await waitFor(
        async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'", [app]))[0]!.n),
        (n) => n > 0,
        10_000,
      );
      expect(running).toBe(1);
      expect(await terminatePgBackends(app)).toBeGreaterThan(0);
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
  const COOLDOWN_MS = 2000;
  /**
   * Each database's cooldown as the package chose it: retryAt minus the
   * failure's own timestamp (lastError.at), both set at the failure, one
   * statement apart. When the 20 failures happen does not matter, so a loaded
   * machine that spreads the connects out cannot make jitter 0 look spread
   * (the old check measured from one clock reading before all 20 connects).
   * A pause of the process between those two statements can make one read
   * short (20 ms was seen under load), never long.
   */
  async function cooldowns(jitter: number): Promise<number[]> {
    const databases = Array.from({ length: 20 }, () =>
      createDatabase(pg({ connectionString: url }), { name: uniqueName("ndc_jitter"), logger: false, retry: { cooldownMs: COOLDOWN_MS, jitter } }),
    );
    await Promise.all(databases.map((d) => d.connect().catch(() => {})));
    const chosen = databases.map((d) => {
      const { retryAt, lastError } = d.stats();
      return Date.parse(retryAt!) - Date.parse(lastError!.at);
    });
    await Promise.all(databases.map((d) => d.close()));
    return chosen;
  }
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const steady = await cooldowns(0);
  const jittered = await cooldowns(0.2);
  // jitter 0: every cooldown is the configured one (+2 ms of rounding, up to 100 ms short for a pause).
  for (const t of steady) {
    expect(t).toBeLessThanOrEqual(COOLDOWN_MS + 2);
    expect(t).toBeGreaterThan(COOLDOWN_MS - 100);
  }
  // jitter 0.2: 20 draws over [1600, 2000] ms; a spread of 100 ms or less has probability about 6e-11.
  expect(spread(jittered)).toBeGreaterThan(100);
  // Never longer than configured, never shorter than 80% of it (less the same 100 ms).
  for (const t of jittered) {
    expect(t).toBeLessThanOrEqual(COOLDOWN_MS + 2);
    expect(t).toBeGreaterThan(COOLDOWN_MS * 0.8 - 100);
  }
});
