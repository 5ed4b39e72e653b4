import { DatabaseUnavailableError } from "../errors.js";

/**
 * Requests waiting for a pooled connection, so that `close()` can fail them
 * at once (503) instead of leaving them to a driver timeout: node-postgres's
 * `pool.end()` and mysql2's leave their queues waiting.
 */
export class CheckoutWaiters {
  private readonly failers = new Set<(err: Error) => void>();

  get size(): number {
    return this.failers.size;
  }

  /** Registers a waiter; returns the function that forgets it once served. */
  add(fail: (err: Error) => void): () => void {
    this.failers.add(fail);
    return () => void this.failers.delete(fail);
  }

  /** Every waiter gets a `closed` 503; later checkouts are refused by the closed pool itself. */
  failAll(database: string): void {
    const failers = [...this.failers];
    this.failers.clear();
    for (const fail of failers) {
      fail(new DatabaseUnavailableError(database, `database "${database}" was closed while this request waited for a connection`, 1, { reason: "closed" }));
    }
  }
}

/** A checkout that waited its whole time in the queue: the database is up, every connection busy. */
export function waitTimeout(database: string, ms: number): DatabaseUnavailableError {
  return new DatabaseUnavailableError(
    database,
    `database "${database}" is busy: no pooled connection came free within ${ms} ms`,
    1,
    { reason: "saturated" },
  );
}
