import { STATUS_CODES } from "node:http";
import type { Core } from "../src/core.js";
import { nodeAnswer, type NodeResponse } from "./node-answer.js";

type Next = (err?: unknown) => unknown;
type RequestLike = { method?: string; url?: string };

/** An app's own error handler, in the shape next-connect v0, Express and connect call it. */
export type AppErrorHandler = (err: any, req: any, res: any, next: any) => unknown;

/**
 * `database.onError`: an error handler for the routers that hand a handler's
 * error to a callback instead of back to the middleware (next-connect v0's
 * `onError` option, Express and connect error middleware). There a connection
 * lost mid-request would otherwise reach the app's generic handler as a 500.
 *
 * Errors of this database are answered by their cause (503 with `Retry-After`).
 * Anything else goes on to `next(err)` where the router's `next` takes an
 * error (Express, connect); next-connect v0's `next` only continues the chain,
 * so there it gets a plain 500 (or the error's own 4xx/5xx `status`) without
 * the error's message, which may name internals.
 *
 * `database.onError.with(appOnError)` hands everything that is not a database
 * failure to the app's own handler instead, unchanged, with the same
 * arguments: adopting it changes nothing for the app's errors.
 */
export function createErrorHandler(core: Core<unknown, unknown, unknown>) {
  /** Answers a database failure on `res`; anything else comes back as the error the app's handler should see. */
  const answerOurs = (err: unknown, res: NodeResponse): { answered: true } | { answered: false; error: unknown } => {
    try {
      core.requests.settle(err, core.lifecycle.current, nodeAnswer(res));
      return { answered: true };
    } catch (error) {
      // Not this database's failure (the original error), or a rejected
      // configuration (a DatabaseConfigError, secrets masked): the app's to answer.
      return { answered: false, error };
    }
  };

  function onError(err: unknown, req: RequestLike, res: NodeResponse, next?: Next): unknown {
    const outcome = answerOurs(err, res);
    if (outcome.answered) return;
    if (typeof next === "function" && next.length > 0) return next(outcome.error);
    return plainError(core, outcome.error, req, res);
  }

  return Object.assign(onError, {
    with<H extends AppErrorHandler>(appHandler: H): H {
      if (typeof appHandler !== "function") {
        throw new TypeError(`database.onError.with(handler): handler must be the app's error handler function, got ${appHandler === null ? "null" : typeof appHandler}`);
      }
      // Four parameters: Express and connect tell error middleware by its arity.
      const composed = function onErrorWith(err: unknown, req: unknown, res: NodeResponse, next: unknown): unknown {
        const outcome = answerOurs(err, res);
        return outcome.answered ? undefined : appHandler(outcome.error, req, res, next);
      };
      return composed as unknown as H;
    },
  });
}

/** next-connect v0 with no handler of the app's: a plain status, never the error's message. */
function plainError(core: Core<unknown, unknown, unknown>, err: unknown, req: RequestLike, res: NodeResponse): void {
  const path = (req?.url ?? "").split("?", 1)[0];
  core.def.log.error(`${req?.method ?? "GET"} ${path} failed: ${(err as Error | null)?.message ?? String(err)}`);
  if (res.headersSent) {
    res.destroy ? res.destroy() : res.end();
    return;
  }
  const status = statusOf(err);
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(STATUS_CODES[status] ?? "Error");
}

function statusOf(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}
