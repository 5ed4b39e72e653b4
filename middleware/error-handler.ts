import { STATUS_CODES } from "node:http";
import { asUnavailable, type BoundDatabase } from "./bound-database.js";
import { writeUnavailable, type NodeResponse } from "./unavailable-response.js";

/**
 * `database.onError`: an error handler for the routers that hand a handler's
 * error to a callback instead of back to the middleware (next-connect v0's
 * `onError` option, Express and connect error middleware). There a connection
 * lost mid-request would otherwise reach the app's generic handler as a 500.
 *
 * Errors meaning "database unreachable" answer the package's 503 with
 * `Retry-After`. Anything else goes on to `next(err)` where the router's
 * `next` takes an error (Express, connect); next-connect v0's `next` only
 * continues the chain, so there it gets a plain 500 (or the error's own 4xx/5xx
 * `status`) without the error's message, which may name internals.
 */
export function createErrorHandler(bound: BoundDatabase) {
  return function onError(err: unknown, req: { method?: string; url?: string }, res: NodeResponse, next?: (err?: unknown) => unknown): unknown {
    const unavailable = asUnavailable(bound, err);
    if (unavailable) return writeUnavailable(res, unavailable);
    if (typeof next === "function" && next.length > 0) return next(err);
    const path = (req?.url ?? "").split("?", 1)[0];
    bound.def.log.error(`${req?.method ?? "GET"} ${path} failed: ${(err as Error | null)?.message ?? String(err)}`);
    if (res.headersSent) {
      res.destroy ? res.destroy() : res.end();
      return;
    }
    const status = statusOf(err);
    res.statusCode = status;
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end(STATUS_CODES[status] ?? "Error");
  };
}

function statusOf(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}
