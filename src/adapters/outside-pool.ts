import { withDeadline } from "../deadline.js";

/**
 * Opens one connection outside the pool, runs a round trip on it within
 * `timeoutMs`, and always destroys it. Used when every pooled connection is
 * busy and the question is whether the database still answers at all: a
 * connection waiting in the pool's queue cannot tell a busy database from a
 * silent one.
 */
export async function askOutsidePool<C>(
  open: () => C,
  roundTrip: (connection: C) => Promise<unknown>,
  destroy: (connection: C) => void,
  timeoutMs: number,
): Promise<void> {
  const connection = open();
  try {
    await withDeadline(Promise.resolve().then(() => roundTrip(connection)), timeoutMs, "a connection outside the pool");
  } finally {
    try {
      destroy(connection);
    } catch {
      // already gone
    }
  }
}
