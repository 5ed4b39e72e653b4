/**
 * The same one-query handler mounted three ways, over real HTTP: next-connect
 * v1 `createRouter().use(database)`, `database.api()` and `database.route()`.
 * Unhandled errors become 500 (what Next.js would answer), so a test can tell
 * a 503 from the package from a crash of the handler.
 */
import { createRouter } from "next-connect";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { serveNode, serveWeb, type TestServer } from "./http.js";

export interface RouterTargets {
  v1: TestServer;
  api: TestServer;
  route: TestServer;
  all: TestServer[];
  /**
   * Responses whose 'close' has fired on the server, counted once every
   * 'close' listener (the leak guard's among them) has run: the event after
   * which nothing more happens for a request.
   */
  closedResponses(): number;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

export async function serveRouters(database: any, work: (db: any, dbClient: any) => Promise<unknown>): Promise<RouterTargets> {
  let closed = 0;
  // Registered before the handler runs, so before the guard's own listener; counted a turn later, after it.
  const counting = (listener: RequestListener): RequestListener => (req, res) => {
    res.once("close", () => setImmediate(() => closed++));
    listener(req, res);
  };
  const router = createRouter<IncomingMessage & { db: any; dbClient: any }, ServerResponse>()
    .use(database)
    .all(async (req, res) => sendJson(res, 200, { ok: true, result: await work(req.db, req.dbClient) }));
  const v1 = await serveNode(counting((req, res) => void router.run(req as never, res).catch((e) => sendJson(res, 500, { crashed: String(e) }))));
  const apiHandler = database.api(async (req: any, res: ServerResponse) => sendJson(res, 200, { ok: true, result: await work(req.db, req.dbClient) }));
  const api = await serveNode(counting((req, res) => void apiHandler(req, res).catch((e: unknown) => sendJson(res, 500, { crashed: String(e) }))));
  const GET = database.route(async (_req: Request, ctx: any) => Response.json({ ok: true, result: await work(ctx.db, ctx.dbClient) }));
  const route = await serveWeb((req) => GET(req, { params: Promise.resolve({}) }), counting);
  const all = [v1, api, route];
  return { v1, api, route, all, closedResponses: () => closed, close: async () => void (await Promise.all(all.map((s) => s.close()))) };
}

export interface Timed {
  status: number;
  retryAfter: string | null;
  body: string;
  ms: number;
}

export async function timedGet(url: string, init?: RequestInit): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body, ms: performance.now() - started };
}

export function timedBurst(url: string, n: number): Promise<Timed[]> {
  return Promise.all(Array.from({ length: n }, () => timedGet(url)));
}
