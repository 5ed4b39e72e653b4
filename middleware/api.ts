import type { Core } from "../src/core.js";
import { nodeAnswer, type NodeResponse } from "./node-answer.js";

export interface ApiRequestLike {
  method?: string;
  url?: string;
}

/**
 * `database.api(handler)`: a Pages Router API route without next-connect.
 * The handler gets `req.db` / `req.dbClient`; when the database cannot serve
 * the request the package answers (503, or 500 for a rejected configuration);
 * other errors are rethrown for Next.js to report.
 */
export function createApiWrapper(core: Core<unknown, unknown, unknown>) {
  return function api<Req extends ApiRequestLike, Res extends NodeResponse, R>(
    handler: (req: Req & { db: unknown; dbClient: unknown }, res: Res) => R | Promise<R>,
  ) {
    return async function apiRoute(req: Req, res: Res): Promise<R | void> {
      return core.requests.serve<R | void>(req, res, nodeAnswer(res), (pool) => {
        const withDb = req as Req & { db: unknown; dbClient: unknown };
        withDb.db = core.def.dbOf(pool);
        withDb.dbClient = pool.client;
        return handler(withDb, res);
      });
    };
  };
}
