import { expect } from "vitest";

/**
 * The MongoDB driver's `close()` first cuts the connections checked out, and
 * the slot that frees may start a new connection for the first request in the
 * pool's queue; when that handshake finishes before the pool closes, that one
 * request is served. The driver's own race, and harmless (the request ran in
 * full). Asserts it happened to one waiter at most and returns the others,
 * the ones the close must have failed.
 */
export function notServedDuringClose<W extends { status: number | string }>(waiters: W[]): W[] {
  const served = waiters.filter((w) => w.status === 200);
  expect(served.length, "waiters served while close() ran").toBeLessThanOrEqual(1);
  return waiters.filter((w) => w.status !== 200);
}
