/**
 * One handler mounted in every router style the package supports, each on its
 * own real HTTP server, each with the error handling an app of that style has:
 *
 * - `v1`: next-connect v1, `createRouter().use(database)`, `router.handler({ onError })`;
 * - `v0-onError`: next-connect v0 with `onError: database.onError`;
 * - `express-onError`: Express with `app.use(database.onError)` before the app's own error handler;
 * - `v0-plain`: next-connect v0 with its default onError (no `database.onError`);
 * - `express-plain`: Express with only the app's own error handler;
 * - `api`: `database.api(handler)`, an error answered 500 as Next.js does;
 * - `route`: `database.route(handler)`, an error answered 500 as Next.js does;
 * - `edge`: next-connect's `createEdgeRouter().use(database)` (Node runtime), `handler({ onError })`.
 *
 * Where the app's own error handler answers, it says so: `{ app: "error", name, setting }`
 * with status 500, so a test can tell the app's answer from the package's 503.
 */
import express from "express";
import { createEdgeRouter, createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { IncomingMessage, ServerResponse } from "node:http";
import { serveNode, serveWeb, type TestServer } from "./http.js";

export const ROUTER_STYLES = ["v1", "v0-onError", "express-onError", "v0-plain", "express-plain", "api", "route", "edge"] as const;
export type RouterStyle = (typeof ROUTER_STYLES)[number];

/** The styles where an error thrown by the handler comes back to the package (or to `database.onError`). */
export const STYLES_THAT_SEE_HANDLER_ERRORS: ReadonlySet<RouterStyle> = new Set(["v1", "v0-onError", "express-onError", "api", "route", "edge"]);

export interface WorkContext {
  db: any;
  dbClient: any;
  style: RouterStyle;
  url: URL;
}

export type Work = (ctx: WorkContext) => Promise<unknown>;

export interface StyleServers {
  url(style: RouterStyle, path?: string): string;
  close(): Promise<void>;
}

/** What the app's own error handler answers. */
export function appErrorBody(err: unknown): string {
  const e = err as { name?: unknown; setting?: unknown; message?: unknown } | null;
  return JSON.stringify({ app: "error", name: String(e?.name ?? typeof err), setting: e?.setting ?? null });
}

function sendAppError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.end();
  res.statusCode = 500;
  res.setHeader("Content-Type", "application/json");
  res.end(appErrorBody(err));
}

function sendOk(res: ServerResponse, result: unknown): void {
  res.statusCode = 200;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ ok: true, result: result ?? null }));
}

type NodeReq = IncomingMessage & { db: any; dbClient: any };

export async function serveRouterStyles(database: any, work: Work, styles: readonly RouterStyle[] = ROUTER_STYLES): Promise<StyleServers> {
  const servers = new Map<RouterStyle, TestServer>();
  const nodeWork = (style: RouterStyle) => async (req: NodeReq, res: ServerResponse) =>
    sendOk(res, await work({ db: req.db, dbClient: req.dbClient, style, url: new URL(req.url ?? "/", "http://x") }));

  for (const style of styles) {
    let server: TestServer;
    switch (style) {
      case "v1": {
        const router = createRouter<NodeReq, ServerResponse>().use(database).all(nodeWork(style));
        const handler = router.handler({ onError: (err, _req, res) => sendAppError(res, err) });
        server = await serveNode(handler as never);
        break;
      }
      case "v0-onError":
      case "v0-plain": {
        const options = style === "v0-onError" ? { onError: database.onError } : {};
        server = await serveNode(nextConnectV0<NodeReq, ServerResponse>(options).use(database).all(nodeWork(style)) as never);
        break;
      }
      case "express-onError":
      case "express-plain": {
        const app = express().use(database).all("/{*rest}", nodeWork(style) as never);
        if (style === "express-onError") app.use(database.onError);
        app.use((err: unknown, _req: unknown, res: ServerResponse, _next: unknown) => sendAppError(res, err));
        server = await serveNode(app as never);
        break;
      }
      case "api": {
        const handler = database.api(nodeWork(style));
        server = await serveNode((req, res) => void handler(req, res).catch((err: unknown) => sendAppError(res, err)));
        break;
      }
      case "route": {
        const GET = database.route(async (req: Request, ctx: any) =>
          Response.json({ ok: true, result: (await work({ db: ctx.db, dbClient: ctx.dbClient, style, url: new URL(req.url) })) ?? null }),
        );
        server = await serveWeb(async (req) => {
          try {
            return await GET(req, { params: Promise.resolve({}) });
          } catch (err) {
            return new Response(appErrorBody(err), { status: 500, headers: { "Content-Type": "application/json" } });
          }
        });
        break;
      }
      case "edge": {
        const router = createEdgeRouter<Request & { db: any; dbClient: any }, { params?: unknown }>()
          .use(database)
          .all(async (req) =>
            Response.json({ ok: true, result: (await work({ db: req.db, dbClient: req.dbClient, style, url: new URL(req.url) })) ?? null }),
          );
        const handler = router.handler({
          onError: (err) => new Response(appErrorBody(err), { status: 500, headers: { "Content-Type": "application/json" } }),
        });
        server = await serveWeb((req) => handler(req as Request & { db: any; dbClient: any }, {}) as Promise<Response>);
        break;
      }
    }
    servers.set(style, server);
  }
  return {
    url: (style, path = "/q") => `${servers.get(style)!.url}${path}`,
    close: async () => void (await Promise.all([...servers.values()].map((s) => s.close()))),
  };
}

/** One GET with what the tests look at; a socket failure is status "error". */
export interface Answer {
  status: number | "error";
  retryAfter: string | null;
  connection: string | null;
  /** `x-arrived-at`, when the server says when the request reached it (the fault app does). */
  arrivedAt: number | null;
  body: string;
  startedAt: number;
  ms: number;
}

export async function get(url: string, timeoutMs = 20_000): Promise<Answer> {
  const startedAt = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    const arrived = res.headers.get("x-arrived-at");
    return {
      status: res.status, retryAfter: res.headers.get("retry-after"), connection: res.headers.get("connection"),
      arrivedAt: arrived === null ? null : Number(arrived), body, startedAt, ms: performance.now() - t0,
    };
  } catch (err) {
    return { status: "error", retryAfter: null, connection: null, arrivedAt: null, body: String((err as Error).message), startedAt, ms: performance.now() - t0 };
  }
}

/** True for the package's own 503 answer. */
export function isPackage503(a: Answer): boolean {
  return a.status === 503 && a.body.includes('"database_unavailable"') && Number(a.retryAfter) >= 1;
}
