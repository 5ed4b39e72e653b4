import { DatabaseUnavailableError } from "../src/errors.js";
import { acquireForRequest, inFlight, runHandler, scopeFor, type BoundDatabase } from "./bound-database.js";
import { writeUnavailable, type NodeResponse } from "./unavailable-response.js";

export interface ApiRequestLike {
  method?: string;
  url?: string;
}

export interface ApiResponseLike extends NodeResponse {
  once(event: "close", listener: () => void): unknown;
}

/**
 * `database.api(handler)`: a Pages Router API route without next-connect.
 * The handler gets `req.db` / `req.dbClient`; an unreachable database answers
 * 503 with `Retry-After`; other errors are rethrown for Next.js to report.
 */
export function createApiWrapper(bound: BoundDatabase) {
  return function api<Req extends ApiRequestLike, Res extends ApiResponseLike, R>(
    handler: (req: Req & { db: unknown; dbClient: unknown }, res: Res) => R | Promise<R>,
  ) {
    return async function apiRoute(req: Req, res: Res): Promise<R | undefined> {
      inFlight(res);
      const connection = await acquireForRequest(bound);
      if (connection instanceof DatabaseUnavailableError) return void writeUnavailable(res, connection);
      const withDb = req as Req & { db: unknown; dbClient: unknown };
      withDb.db = connection.db;
      withDb.dbClient = connection.client;
      const scope = scopeFor(bound, connection, req, res);
      const result = await runHandler(bound, scope, () => handler(withDb, res));
      if (result instanceof DatabaseUnavailableError) return void writeUnavailable(res, result);
      return result;
    };
  };
}
