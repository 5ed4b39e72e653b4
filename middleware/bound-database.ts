import type { Definition } from "../src/definition.js";
import { DatabaseUnavailableError } from "../src/errors.js";
import type { Connection, Lifecycle } from "../src/lifecycle.js";
import { currentScope, RequestScope, runInScope, type NodeResponseLike, type RequestLike } from "../src/request-scope.js";
import { beginRequest } from "../src/shutdown.js";

/** What every router layer works with: this module's definition and the shared lifecycle. */
export interface BoundDatabase {
  readonly def: Definition;
  readonly lifecycle: Lifecycle;
}

/**
 * Turns an error thrown while serving a request into a 503, when it means the
 * database is unreachable; `null` for anything else (a bug, a constraint
 * violation), which must keep its own status.
 */
export function asUnavailable(bound: BoundDatabase, err: unknown): DatabaseUnavailableError | null {
  if (err instanceof DatabaseUnavailableError) return err;
  if (!bound.lifecycle.suspect(err, bound.def)) return null;
  return new DatabaseUnavailableError(bound.def.name, `database "${bound.def.name}" connection lost during the request`, 1);
}

/** `work`'s result, or the 503 to answer when it failed because the database went away; other errors are thrown. */
async function orUnavailable<R>(bound: BoundDatabase, work: () => R | Promise<R>): Promise<R | DatabaseUnavailableError> {
  try {
    return await work();
  } catch (err) {
    const unavailable = asUnavailable(bound, err);
    if (!unavailable) throw err;
    return unavailable;
  }
}

/** The connection for a request, or the 503 to answer instead; other errors are thrown. */
export function acquireForRequest(bound: BoundDatabase): Promise<Connection | DatabaseUnavailableError> {
  return orUnavailable(bound, () => bound.lifecycle.acquire(bound.def));
}

/**
 * Runs a handler inside the leak-guard scope. A handler that failed because
 * the database went away gives the 503 to answer; other errors are thrown.
 */
export async function runHandler<R>(
  bound: BoundDatabase,
  scope: RequestScope | null,
  handler: () => R | Promise<R>,
): Promise<R | DatabaseUnavailableError> {
  return orUnavailable(bound, () => (scope ? runInScope(scope, handler) : handler()));
}

/**
 * The leak-guard scope for this request, or `null` where there is nothing to
 * guard (no SQL checkouts possible, or the guard is off). A scope already open
 * for the same request (two databases on one router) is reused.
 */
export function scopeFor(
  bound: BoundDatabase,
  connection: Connection,
  request: RequestLike,
  response?: NodeResponseLike,
): RequestScope | null {
  if (connection.adapter.tracksCheckouts !== true || !bound.def.options.leakGuard) return null;
  const current = currentScope();
  if (current !== undefined && current.request === request) return null;
  return new RequestScope(request, response);
}

/**
 * Counts the request as in flight for a graceful shutdown (only once
 * `closeOnShutdown()` is installed). A Node response ends it when it closes,
 * and `null` is returned; for a Web handler the returned function must be
 * called when it is done. Without the shutdown handling: `null`, at no cost.
 */
export function inFlight(response: unknown): (() => void) | null {
  const end = beginRequest();
  if (end === null) return null;
  const res = response as Partial<NodeResponseLike> | undefined;
  if (typeof res?.once === "function") {
    if (res.closed === true || res.destroyed === true) end();
    else res.once("close", end);
    return null;
  }
  return end;
}
