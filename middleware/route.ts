import { DatabaseUnavailableError } from "../src/errors.js";
import type { RequestScope } from "../src/request-scope.js";
import { beginRequest } from "../src/shutdown.js";
import { acquireForRequest, runHandler, scopeFor, type BoundDatabase } from "./bound-database.js";
import { unavailableResponse } from "./unavailable-response.js";

/**
 * The second argument Next.js passes to a route handler. From Next 15 on,
 * `params` is a Promise; Next 13/14 pass a plain object, which is handed on
 * unchanged.
 */
export interface RouteContext<P = Record<string, string | string[]>> {
  params: Promise<P>;
}

/** What a wrapped handler gets as its second argument. */
export type DatabaseRouteContext<P, Db, Client> = {
  params: Promise<P>;
  db: Db;
  dbClient: Client;
};

/**
 * `database.route(handler)`: an App Router route handler with `db` and
 * `dbClient` in its context. An unreachable database answers 503 JSON with
 * `Retry-After`; other errors are rethrown for Next.js to report.
 *
 * The leak guard ends when the handler returns: a streamed body must not keep
 * using a connection it checked out.
 */
export function createRouteWrapper(bound: BoundDatabase) {
  return function route(
    handler: (req: Request, ctx: DatabaseRouteContext<any, unknown, unknown>) => Response | Promise<Response>,
  ) {
    return async function routeHandler(req: Request, ctx?: RouteContext<any>): Promise<Response> {
      const done = beginRequest(); // a Web handler is in flight until it returns
      let scope: RequestScope | null = null;
      try {
        const connection = await acquireForRequest(bound);
        if (connection instanceof DatabaseUnavailableError) return unavailableResponse(connection);
        const context = { ...ctx, params: ctx?.params as Promise<any>, db: connection.db, dbClient: connection.client };
        scope = scopeFor(bound, connection, req);
        const result = await runHandler(bound, scope, () => handler(req, context));
        return result instanceof DatabaseUnavailableError ? unavailableResponse(result) : result;
      } finally {
        scope?.end();
        done?.();
      }
    };
  };
}
