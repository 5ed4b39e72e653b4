/**
 * The classic next-connect v0 API route of an app that migrates: its own
 * `onError` answering JSON 500, `handler.use(database)`, handlers reading
 * `req.db`. Served over real HTTP the way Next.js calls a Pages API route
 * (`handler(req, res)`). Only the `database` middleware changes between the
 * original app and the migrated one.
 */
import nextConnectV0 from "next-connect-v0";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MongoClient } from "mongodb";
import pgDriver from "pg";

export type Middleware = (req: any, res: any, next: (err?: unknown) => unknown) => unknown;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

/** The app's own error handler, as such apps write it: every error a JSON 500 with its message. */
export function appOnError(err: unknown, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 500, { error: "internal_error", message: (err as Error)?.message ?? String(err) });
}

/** `nextConnect({ onError }).use(database).get(read)`: the route, unchanged by the migration. */
export function classicV0Route(database: Middleware, read: (db: any) => Promise<unknown>, onError: (...args: any[]) => unknown = appOnError) {
  return nextConnectV0<IncomingMessage & { db: any }, ServerResponse>({ onError })
    .use(database)
    .get(async (req, res) => sendJson(res, 200, await read(req.db)));
}

/**
 * The original `middlewares/database.js` of a MongoDB app on driver 4.x/5.x:
 * a client connected once through a cached promise, `req.db` / `req.dbClient`
 * set on every request. `driver` is that app's driver major.
 */
export function handWrittenMongoMiddleware(driver: { MongoClient: typeof MongoClient }, uri: string, dbName: string, options: object) {
  let clientPromise: Promise<MongoClient> | undefined;
  const client = new driver.MongoClient(uri, options);
  const middleware: Middleware = async (req, _res, next) => {
    clientPromise ??= client.connect();
    req.dbClient = await clientPromise;
    req.db = req.dbClient.db(dbName);
    return next();
  };
  return { middleware, close: () => client.close() };
}

/** The same for pg: one module-scope Pool, an error listener so an idle client's death is not fatal. */
export function handWrittenPgMiddleware(config: pgDriver.PoolConfig) {
  const pool = new pgDriver.Pool(config);
  pool.on("error", () => {});
  const middleware: Middleware = (req, _res, next) => {
    req.db = pool;
    return next();
  };
  return { middleware, close: () => pool.end() };
}
