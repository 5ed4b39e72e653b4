import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 for a Node-style handler (Pages API, Express, next-connect). */
export async function serveNode(listener: RequestListener): Promise<TestServer> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * A real HTTP server for a Web handler `(Request, ctx) => Response`, the shape
 * of App Router route handlers and of next-connect's createEdgeRouter.
 */
export async function serveWeb(
  handler: (req: Request) => Promise<Response> | Response,
  wrap: (listener: RequestListener) => RequestListener = (listener) => listener,
): Promise<TestServer> {
  return serveNode(wrap(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const response = await handler(await toRequest(req));
      res.statusCode = response.status;
      response.headers.forEach((value, key) => res.setHeader(key, value));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.statusCode = 500;
      res.end(`unhandled: ${(err as Error).message}`);
    }
  }));
}

async function toRequest(req: IncomingMessage): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  return new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers,
    ...(body && req.method !== "GET" && req.method !== "HEAD" ? { body } : {}),
  });
}

/** Sends `n` requests at once and returns every status and body. */
export async function burst(url: string, n: number, init?: RequestInit): Promise<Array<{ status: number; body: string; retryAfter: string | null }>> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(url, init);
      return { status: res.status, body: await res.text(), retryAfter: res.headers.get("retry-after") };
    }),
  );
}
