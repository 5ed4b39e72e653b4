import type { Core } from "../src/core.js";
import type { DatabaseRouteContext, RouteContext } from "../src/types.js";
import { webAnswer } from "./web-answer.js";

/**
 * `database.route(handler)`: an App Router route handler with `db` and
 * `dbClient` in its context. When the database cannot serve the request it
 * answers JSON (503 with `Retry-After`, or 500 for a rejected configuration);
 * other errors are rethrown for Next.js to report.
 *
 * The leak guard ends when the handler returns: a streamed body must not keep
 * using a connection it checked out.
 */
export function createRouteWrapper(core: Core<unknown, unknown, unknown>) {
  return function route(
    handler: (req: Request, ctx: DatabaseRouteContext<any, unknown, unknown>) => Response | Promise<Response>,
  ) {
    return async function routeHandler(req: Request, ctx?: RouteContext<any>): Promise<Response> {
      return core.requests.serve(req, undefined, webAnswer, (pool) =>
        handler(req, { ...ctx, params: ctx?.params as Promise<any>, db: core.def.dbOf(pool), dbClient: pool.client }),
      );
    };
  };
}
