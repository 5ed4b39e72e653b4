import type { IncomingMessage, ServerResponse } from "node:http";
import type { DatabaseRouteContext, DatabaseStats, HealthReport, RouteContext } from "./types.js";

/**
 * What `api()` handlers get when they do not annotate `req` and `res`: the
 * parts of Next.js's `NextApiRequest` / `NextApiResponse` that API routes use,
 * written out so that this package's types never import "next".
 */
export interface PagesApiRequest extends IncomingMessage {
  query: Partial<{ [key: string]: string | string[] }>;
  cookies: Partial<{ [key: string]: string }>;
  body: any;
}

export interface PagesApiResponse<T = any> extends ServerResponse {
  send(body: T): void;
  json(body: T): void;
  status(statusCode: number): PagesApiResponse<T>;
  redirect(url: string): PagesApiResponse<T>;
  redirect(status: number, url: string): PagesApiResponse<T>;
}

/** `req.db` and `req.dbClient`, as the middleware and `api()` set them. */
export interface DatabaseFields<TClient, TDb> {
  db: TDb;
  dbClient: TClient;
}

/**
 * What `createDatabase()` returns: a connect-style middleware that is also
 * the handle for everything else.
 */
export interface DatabaseHandle<TClient, TDb> {
  /**
   * Middleware for next-connect v1 (`createRouter`, `createEdgeRouter`),
   * next-connect v0, Express and connect: sets `req.db` and `req.dbClient`,
   * answers 503 by itself when the database cannot serve the request.
   */
  (req: any, resOrCtx: any, next: (err?: any) => any): any;

  /** The pool, connecting on first call. For Server Components, Server Actions, scripts. */
  connect(): Promise<{ client: TClient; db: TDb }>;

  /**
   * The driver's client as a promise that never stays rejected, for libraries
   * that take one at import (connect-mongo, Auth.js adapters): through an
   * outage it waits, and settles once the database is reachable. Rejects only
   * for a setting that can never work. Lazy: nothing connects until awaited.
   */
  clientPromise(): Promise<TClient>;

  /** Wraps a Pages Router API route (no next-connect needed). */
  api<Req extends IncomingMessage = PagesApiRequest, Res extends ServerResponse = PagesApiResponse>(
    handler: (req: Req & DatabaseFields<TClient, TDb>, res: Res) => unknown,
  ): (req: Req, res: Res) => Promise<void>;

  /** Wraps an App Router route handler; `db` and `dbClient` arrive in its context. */
  route<P = Record<string, string | string[]>, Req extends Request = Request>(
    handler: (req: Req, ctx: DatabaseRouteContext<P, TDb, TClient>) => Response | Promise<Response>,
  ): (req: Req, ctx: RouteContext<P>) => Promise<Response>;

  /**
   * Error handler for next-connect v0 (`nextConnect({ onError: database.onError })`)
   * and Express/connect (`app.use(database.onError)`, after the routes): a
   * connection lost mid-request answers 503 with `Retry-After`; other errors go
   * to `next(err)` (Express, connect) or answer a plain 500 (next-connect v0).
   * `database.onError.with(appOnError)` keeps the app's own handler for those.
   */
  onError: DatabaseErrorHandler;

  /** Ends every connection; requests waiting for one get 503 at once. Idempotent; the next use connects again. */
  close(): Promise<void>;

  /** State, counters and pool figures; never contains a secret. */
  stats(): DatabaseStats;

  /**
   * Connects if needed, pings within a timeout, and reports with stats. Never
   * throws. `ok` for `up` and for `busy` (no free connection in time: loaded, not down).
   */
  health(options?: { timeoutMs?: number }): Promise<HealthReport>;
}

/** `database.onError`, and `database.onError.with(appOnError)` to keep the app's own handler for everything else. */
export interface DatabaseErrorHandler {
  (err: unknown, req: any, res: any, next?: (err?: any) => any): unknown;
  /**
   * The same handler, composed with the app's own: database failures get the
   * package's 503; every other error goes to `appHandler(err, req, res, next)`
   * exactly as before, so the app's own error answers stay as they were:
   * `nextConnect({ onError: database.onError.with(onError) })`. Returns a
   * function of the handler's own type (four parameters, so Express and
   * connect see error middleware).
   */
  with<H extends (err: any, req: any, res: any, next: any) => unknown>(appHandler: H): H;
}

export interface TransactionCapable<TTx> {
  /**
   * Runs `fn` in a transaction on one pooled connection: commit when it
   * resolves, roll back when it throws, release the connection either way.
   */
  transaction<T>(fn: (tx: TTx) => Promise<T>): Promise<T>;
}

export type Database<TClient, TDb, TTx = never> = DatabaseHandle<TClient, TDb> &
  ([TTx] extends [never] ? {} : TransactionCapable<TTx>);

/** `req.db` / `req.dbClient` types for a database: `NextApiRequest & DatabaseRequest<typeof database>`. */
export type DatabaseRequest<D> = D extends DatabaseHandle<infer TClient, infer TDb> ? DatabaseFields<TClient, TDb> : never;
