/**
 * close() fails at once a checkout pg-pool queued behind idle clients.
 *
 * pg-pool queues every checkout while it has idle clients (they are handed
 * out on the next tick), and its end() leaves that queue waiting until
 * connectionTimeoutMillis. A close in that tick (a replacement, a shutdown)
 * left the request waiting its whole acquire time for a 503 "busy": measured
 * as a 10 s wait under next start with two databases under one name.
 *
 * Control: node-postgres's own pool, same tick, waits for its timeout.
 */
import pgDriver from "pg";
import { afterAll, expect, it } from "vitest";
import { createDatabase, DatabaseUnavailableError } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { closeAdmin, postgresUrl, uniqueName } from "./support/postgres.js";

afterAll(async () => {
  await closeAdmin();
});

const TIMEOUT_MS = 3000;

it("a checkout queued behind idle clients gets the closed 503 at once; control: pg-pool alone waits for its timeout", async () => {
  const url = await postgresUrl();
  const database = createDatabase(pg({ connectionString: url, application_name: uniqueName("ndc_close_queued"), max: 3, connectionTimeoutMillis: TIMEOUT_MS }), { logger: false, name: uniqueName("close_queued") });
  const { client: pool } = await database.connect(); // one idle client now
  const started = performance.now();
  const checkout = pool.connect().then((c) => (c.release(), "served"), (err: unknown) => err);
  const closing = database.close();
  const outcome = await checkout;
  const ms = performance.now() - started;
  await closing;
  expect(outcome).toBeInstanceOf(DatabaseUnavailableError);
  expect((outcome as DatabaseUnavailableError).reason).toBe("closed");
  expect(ms).toBeLessThan(TIMEOUT_MS / 2);

  // CONTROL
  const bare = new pgDriver.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: TIMEOUT_MS });
  await bare.query("SELECT 1");
  const bareStarted = performance.now();
  const bareCheckout = bare.connect().then((c) => (c.release(), "served"), (err: unknown) => err);
  const bareClosing = bare.end();
  const bareOutcome = await bareCheckout;
  const bareMs = performance.now() - bareStarted;
  await bareClosing;
  expect(String((bareOutcome as Error).message)).toMatch(/timeout exceeded when trying to connect/);
  expect(bareMs).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
});
