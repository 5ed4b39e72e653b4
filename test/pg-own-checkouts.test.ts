/**
 * The package checks out pool connections for itself: the health probe's ping
 * and the connection-budget reading (which runs a second after the connect, on
 * an idle connection). When the server ends the idle connections (a restart,
 * `pg_terminate_backend`, an idle timeout), one of these checkouts may take a
 * connection whose error has not been read yet. That connection died idle:
 * the log says so ("an idle connection failed"), not that a connection failed
 * under a caller. Control: a caller's checkout that meets the same dead
 * connection is logged "failed while checked out".
 *
 * The race is made certain, not waited for: the idle connection's socket stops
 * reading before the server ends it, and reads again once it is checked out.
 */
import type { Pool } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { closeAdmin, pgConnectionCount, postgresUrl, terminatePgBackends, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

afterAll(() => closeAdmin());

/**
 * What the dead connection answers: the server's 57P01 when its goodbye is
 * read first, or a reset when the query written to the closed socket is.
 */
const DEAD = /^failed: (terminating connection|read ECONNRESET)/;

interface PoolSockets {
  _clients: Array<{ connection: { stream: { pause(): void; resume(): void } } }>;
}

/**
 * One idle pooled connection, ended by the server while its socket does not
 * read; `checkout` takes it, then the socket reads the server's goodbye.
 */
async function deadIdleConnectionMeets(checkout: (adapter: ReturnType<typeof pg>, pool: Pool) => Promise<unknown>) {
  const app = uniqueName("ndc_own_checkout");
  const logger = captureLogger();
  const adapter = pg({ connectionString: await postgresUrl(), application_name: app, max: 2 });
  const database = createDatabase(adapter, { name: app, logger, connectionBudget: false });
  try {
    const { db } = await database.connect();
    await db.query("SELECT 1");
    const [client] = (db as unknown as PoolSockets)._clients;
    expect((db as Pool).idleCount).toBe(1);
    client!.connection.stream.pause();
    expect(await terminatePgBackends(app)).toBe(1);
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0)).toBe(0);
    const outcome = checkout(adapter, db as Pool).then(
      () => "ok",
      (err: Error) => `failed: ${err.message}`,
    );
    setTimeout(() => client!.connection.stream.resume(), 50);
    const result = await outcome;
    await waitFor(() => logger.text(), (t) => /connection failed/.test(t));
    return { result, log: logger.text() };
  } finally {
    await database.close();
  }
}

describe("pg: the package's own checkouts meeting a connection the server ended while idle", () => {
  it("the budget reading: logged as an idle connection that failed, not as one failing under a caller", async () => {
    const { result, log } = await deadIdleConnectionMeets((adapter, pool) => adapter.budget!(pool));
    expect(result).toMatch(DEAD);
    expect(log).toMatch(/an idle connection failed \((57P01|ECONNRESET)/);
    expect(log).not.toMatch(/failed while checked out/);
  });

  it("the health probe's ping: logged as an idle connection, and the ping answers on a new connection", async () => {
    const { result, log } = await deadIdleConnectionMeets((adapter, pool) => adapter.ping!(pool, 3000));
    expect(result).toBe("ok");
    expect(log).toMatch(/an idle connection failed \((57P01|ECONNRESET)/);
    expect(log).not.toMatch(/failed while checked out/);
  });

  it("control: a caller's checkout meeting the same connection is logged as failing while checked out", async () => {
    const { result, log } = await deadIdleConnectionMeets(async (_adapter, pool) => {
      const client = await pool.connect();
      try {
        await client.query("SELECT 1");
      } finally {
        client.release(true);
      }
    });
    expect(result).toMatch(DEAD);
    expect(log).toMatch(/a connection failed while checked out \((57P01|ECONNRESET)/);
  });
});
