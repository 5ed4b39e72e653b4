import type { DatabaseUnavailableError } from "../src/errors.js";

/**
 * The 503 every router layer answers when the database is down. The body is
 * deliberately generic: the cause is in the server log, not in the response.
 */
function body(err: DatabaseUnavailableError): string {
  return JSON.stringify({
    error: "database_unavailable",
    message: "The database is temporarily unavailable. Please retry shortly.",
    retryAfter: err.retryAfter,
  });
}

function headers(err: DatabaseUnavailableError): Record<string, string> {
  return {
    "Content-Type": "application/json; charset=utf-8",
    "Retry-After": String(err.retryAfter),
    // A cached 503 would outlive the outage.
    "Cache-Control": "no-store",
  };
}

export interface NodeResponse {
  headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  destroy?(error?: Error): unknown;
}

export function isNodeResponse(value: unknown): value is NodeResponse {
  return typeof (value as NodeResponse | null)?.setHeader === "function";
}

export function writeUnavailable(res: NodeResponse, err: DatabaseUnavailableError): void {
  if (res.headersSent) {
    // Too late for a status code: end the response so the client sees a failure, not a hang.
    res.destroy ? res.destroy() : res.end();
    return;
  }
  res.statusCode = 503;
  for (const [name, value] of Object.entries(headers(err))) res.setHeader(name, value);
  res.end(body(err));
}

export function unavailableResponse(err: DatabaseUnavailableError): Response {
  return new Response(body(err), { status: 503, headers: headers(err) });
}
