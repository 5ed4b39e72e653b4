import type { DatabaseUnavailableError } from "../src/errors.js";
import type { Connection } from "../src/lifecycle.js";
import { runInScope, type RequestScope } from "../src/request-scope.js";
import { asUnavailable, inFlight, scopeFor, type BoundDatabase } from "./bound-database.js";
import { isNodeResponse, unavailableResponse, writeUnavailable } from "./unavailable-response.js";

/**
 * `next` as the routers pass it. next-connect v1 and `createEdgeRouter` pass
 * `() => Promise` (errors must be thrown); next-connect v0, Express and
 * connect pass `(err?) => void` (errors must be handed to it).
 */
export type Next = (err?: unknown) => unknown;

interface MutableRequest {
  db?: unknown;
  dbClient?: unknown;
  method?: string;
  url?: string;
}

/**
 * The connect-style middleware `database` itself is: sets `req.db` and
 * `req.dbClient`, then continues. When the database is unreachable it answers
 * 503 by itself, so an app with no error handler still answers correctly.
 */
export function createConnectMiddleware(bound: BoundDatabase) {
  return function database(req: any, resOrCtx: any, next: Next): any {
    const done = inFlight(resOrCtx);
    if (done === null) return serve(bound, req, resOrCtx, next);
    // A Web handler (createEdgeRouter) is out of flight when the chain settles.
    let result: unknown;
    try {
      result = serve(bound, req, resOrCtx, next);
    } catch (err) {
      done();
      throw err;
    }
    if (isPromiseLike(result)) return Promise.resolve(result).finally(done);
    done();
    return result;
  };
}

function serve(bound: BoundDatabase, req: any, resOrCtx: any, next: Next): unknown {
  const acquired = bound.lifecycle.acquire(bound.def);
  if (!(acquired instanceof Promise)) return proceed(bound, acquired, req, resOrCtx, next);
  return acquired.then(
    (connection) => proceed(bound, connection, req, resOrCtx, next),
    (err) => fail(bound, err, resOrCtx, next),
  );
}

function proceed(bound: BoundDatabase, connection: Connection, req: MutableRequest, resOrCtx: unknown, next: Next): unknown {
  req.db = connection.db;
  req.dbClient = connection.client;
  const nodeRes = isNodeResponse(resOrCtx) ? resOrCtx : undefined;
  const scope = scopeFor(bound, connection, req, nodeRes as never);
  if (next.length > 0) {
    // Callback style: errors downstream go to the router's error handler, not back here.
    return scope ? runInScope(scope, () => next()) : next();
  }
  let result: unknown;
  try {
    result = scope ? runInScope(scope, next) : next();
  } catch (err) {
    return downstreamError(bound, err, resOrCtx, scope, nodeRes === undefined);
  }
  if (!isPromiseLike(result)) {
    if (!nodeRes) scope?.end();
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      // A Node response ends the scope when it closes; a Web handler is done now.
      if (!nodeRes) scope?.end();
      return value;
    },
    (err) => downstreamError(bound, err, resOrCtx, scope, nodeRes === undefined),
  );
}

/** Promise-style routers only: a handler failed because the database went away. */
function downstreamError(bound: BoundDatabase, err: unknown, resOrCtx: unknown, scope: RequestScope | null, web: boolean): unknown {
  if (web) scope?.end();
  const unavailable = asUnavailable(bound, err);
  if (!unavailable) throw err;
  return answerUnavailable(resOrCtx, unavailable);
}

function fail(bound: BoundDatabase, err: unknown, resOrCtx: unknown, next: Next): unknown {
  const unavailable = asUnavailable(bound, err);
  if (unavailable) return answerUnavailable(resOrCtx, unavailable);
  // A config or runtime error: the app's error handler should see it.
  if (next.length > 0) return next(err);
  throw err;
}

/** The 503 the way this router answers: written to a Node response, or returned as a Web one. */
function answerUnavailable(resOrCtx: unknown, unavailable: DatabaseUnavailableError): unknown {
  return isNodeResponse(resOrCtx) ? writeUnavailable(resOrCtx, unavailable) : unavailableResponse(unavailable);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
