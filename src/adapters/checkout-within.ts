import { TimeoutError } from "../deadline.js";
import type { RaisedErrors } from "./raised-errors.js";

/**
 * A checkout bounded by a ping's own time, which is shorter than
 * `acquireTimeoutMs`: a ping that finds every connection busy says so (the
 * caller's `busy` error) rather than waiting in line behind the requests. A
 * connection that arrives after the deadline goes straight back to the pool.
 *
 * `queued`: the checkout waits behind busy connections (the pool is full).
 * Only then is a late checkout *saturated*; otherwise the pool was opening a
 * new connection, and one that does not finish in time is a database that
 * does not answer (*unreachable*).
 */
export function checkoutWithin<C>(
  checkout: Promise<C>,
  ms: number,
  release: (connection: C) => void,
  pool: object,
  raised: RaisedErrors,
  queued = true,
): Promise<C> {
  const busy = () => {
    const err = queued
      ? new Error(`no pooled connection came free within ${ms} ms`)
      : new TimeoutError("opening a connection for the ping", ms);
    raised.mark(pool, err, queued ? "saturated" : "unreachable");
    return err;
  };
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(busy());
    }, ms);
    checkout.then(
      (connection) => {
        clearTimeout(timer);
        if (late) release(connection);
        else resolve(connection);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
