import { DatabaseConfigError, DatabaseError, DatabaseRuntimeError, DatabaseUnavailableError } from "./errors.js";
import type { Verdict } from "./failure.js";
import type { AnyAdapter } from "./types.js";

/**
 * What an error means for the database a request used: one of the failures,
 * `app` (its driver raised it, but it is the app's own: a constraint, a syntax
 * error), or `null`: not this database's at all, so it keeps the app's own
 * status.
 *
 * Only the adapter can tell whether its client raised an error (the built-in
 * SQL adapters remember every error their pool handed out; MongoDB's are the
 * driver's own classes). Looking for network-like codes is not enough: a
 * `fetch()` to another service that fails with ECONNREFUSED in its `cause`, or
 * an HTTP client's ETIMEDOUT, is not a database outage.
 *
 * The `cause` chain is followed, so a database error the app wrapped in its
 * own (`new Error("…", { cause })`) is still recognised.
 */
export function classify(err: unknown, adapter: AnyAdapter, client: unknown): Verdict {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const own = packageVerdict(current);
    if (own !== undefined) return own;
    let verdict: Verdict = null;
    try {
      verdict = adapter.classify?.(current, client) ?? null;
    } catch {
      // A throwing classifier must not turn one failed request into two.
    }
    if (verdict !== null) return verdict;
    current = causeOf(current);
  }
  return null;
}

/** The package's own errors carry their meaning. */
function packageVerdict(err: object): Verdict | undefined {
  if (err instanceof DatabaseUnavailableError) return err.reason;
  if (err instanceof DatabaseConfigError || err instanceof DatabaseRuntimeError) return "misconfigured";
  if (err instanceof DatabaseError) return "app";
  return undefined;
}

function causeOf(err: object): unknown {
  try {
    return (err as { cause?: unknown }).cause;
  } catch {
    return undefined; // a getter or a Proxy trap may throw
  }
}
