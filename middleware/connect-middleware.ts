import type { Core } from "../src/core.js";
import type { DatabaseUnavailableError } from "../src/errors.js";
import type { Answer } from "../src/request.js";
import { isNodeResponse, writeUnavailable, type NodeResponse } from "./node-answer.js";
import { webAnswer } from "./web-answer.js";

/**
 * `next` as the routers pass it. next-connect v1 and `createEdgeRouter` pass
 * `() => Promise` (errors come back to us as a rejection); next-connect v0,
 * Express and connect pass `(err?) => void` (errors go to the router's error
 * handler and never come back).
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
 * `req.dbClient`, then continues. When the database cannot serve the request
 * it answers by itself (503), so an app with no error handler still answers
 * correctly; a rejected configuration goes to the router's error path.
 *
 * One function serves every router, so this is the one place they are told
 * apart: a Web handler (`createEdgeRouter`: `(Request, ctx, next)`) gets a
 * `Response` back; a Node response (next-connect v0/v1, Express, connect) is
 * written to (`NodeMiddlewareAnswer`).
 */
export function createConnectMiddleware(core: Core<unknown, unknown, unknown>) {
  return function database(req: MutableRequest, resOrCtx: unknown, next: Next): unknown {
    const res = isNodeResponse(resOrCtx) ? resOrCtx : undefined;
    return core.requests.serve(req, res, res ? new NodeMiddlewareAnswer(req, res, next) : webAnswer, (pool) => {
      req.db = core.def.dbOf(pool);
      req.dbClient = pool.client;
      return next();
    });
  };
}

/**
 * How the middleware answers on a Node response. Decided only when something
 * failed, so the hot path pays for none of it.
 *
 * The router's error path is `next(err)` for routers whose `next` takes an
 * error (next-connect v0, Express, connect) and a rejection for next-connect
 * v1, whose `next` takes none. A rejected configuration always goes there, for
 * the app's error handler and error tracker to see. A 503 is written to the
 * response, except during a Pages Router page render (`getServerSideProps`
 * running `router.run(req, res)`), which must not get a JSON body in place of
 * its page: there the error goes back to `run()`, which rejects, and the page
 * can render its own error.
 */
class NodeMiddlewareAnswer implements Answer<unknown> {
  constructor(
    private readonly req: object,
    private readonly res: NodeResponse,
    private readonly next: Next,
  ) {}

  unavailable(err: DatabaseUnavailableError): unknown {
    if (isPageRender(this.req, this.res)) return this.giveBack(err);
    return writeUnavailable(this.res, err);
  }

  misconfigured(err: Error): unknown {
    return this.giveBack(err);
  }

  private giveBack(err: Error): unknown {
    if (this.next.length > 0) return void this.next(err);
    throw err;
  }
}

/**
 * Next.js marks every request it serves with request metadata under a symbol
 * (`NextInternalRequestMeta` from Next 13, `NextRequestMeta` in Next 12), and
 * gives API routes' responses `json()`/`send()`. A Next request whose response
 * has neither is a page being rendered.
 */
function isPageRender(req: object, res: object): boolean {
  if (typeof (res as { json?: unknown }).json === "function") return false;
  return Object.getOwnPropertySymbols(req).some((symbol) => /RequestMeta/.test(symbol.description ?? ""));
}
