/**
 * The package checks out pool connections for itself: the health probe's ping
 * and the connection-budget reading (which runs a second after the connect, on
 * an idle connection). When idle connections have died without the pool
 * noticing (the server or a NAT ended them while the process was busy or
 * frozen), one of these checkouts may take a dead one. That connection died
 * idle: the log says so ("an idle connection failed"), not that a connection
 * failed under a caller. Control: a caller's checkout that meets the same dead
 * connection is logged "failed while checked out".
 *
 * The dead connection is made certain, not waited for: a TCP proxy ends the
 * server's session and tells the client nothing, so the pool still holds the
 * connection as idle, and the first bytes written on it get a reset.
 */
import type { Pool } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { closeAdmin } from "./support/postgres.js";
import { proxiedPostgres } from "./support/shared-targets.js";
import { waitFor } from "./support/wait.js";

afterAll(() => closeAdmin());

/** What the dead connection answers the query written on it. */
const DEAD = /^failed: .*(ECONNRESET|Connection terminated)/;

/**
 * One idle pooled connection whose server session has ended unseen;
 * `checkout` meets it (or, for the ping, may).
 */
async function deadIdleConnectionMeets(checkout: (adapter: ReturnType<typeof pg>, pool: Pool) => Promise<unknown>) {
  const target = await proxiedPostgres();
  const logger = captureLogger();
  const adapter = pg({ connectionString: target.url, application_name: target.app, max: 2 });
  const database = createDatabase(adapter, { name: target.app, logger, connectionBudget: false });
  try {
    const { db } = await database.connect();
    await db.query("SELECT 1");
    expect((db as Pool).idleCount).toBe(1);
    expect(target.proxy.dropSilently()).toBe(1);
    expect(await waitFor(target.serverCount, (n) => n === 0)).toBe(0);
    // The pool has heard nothing: the dead connection is still its idle one.
    expect((db as Pool).idleCount).toBe(1);
    const result = await checkout(adapter, db as Pool).then(
      () => "ok",
      (err: Error) => `failed: ${err.message}`,
    );
    await waitFor(() => logger.text(), (t) => /connection failed/.test(t));
    return { result, log: logger.text() };
  } finally {
    await database.close();
    await target.teardown();
  }
}

describe("pg: the package's own checkouts meeting a connection the server ended while idle", () => {
  it("the budget reading: logged as an idle connection that failed, not as one failing under a caller", async () => {
    const { result, log } = await deadIdleConnectionMeets((adapter, pool) => adapter.budget!(pool));
    expect(result).toMatch(DEAD);
    expect(log).toMatch(/an idle connection failed \(ECONNRESET/);
    expect(log).not.toMatch(/failed while checked out/);
  });

  it("the health probe's ping: logged as an idle connection, and the ping answers on a new connection", async () => {
    const { result, log } = await deadIdleConnectionMeets((adapter, pool) => adapter.ping!(pool, 3000));
    expect(result).toBe("ok");
    expect(log).toMatch(/an idle connection failed \(ECONNRESET/);
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
    expect(log).toMatch(/a connection failed while checked out \(ECONNRESET/);
  });
});
