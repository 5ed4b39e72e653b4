import type { DatabaseUnavailableError } from "../src/errors.js";
import { isDraining } from "../src/shutdown.js";

/**
 * What every router layer sends when the package answers a request itself: a
 * 503 when the database cannot serve it.
 * Bodies are deliberately generic: the cause is in the server log, never in a
 * response (it may name hosts, users or internals).
 */
export interface AnswerParts {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const UNAVAILABLE_MESSAGES: Record<DatabaseUnavailableError["reason"], string> = {
  unreachable: "The database is temporarily unavailable. Please retry shortly.",
  saturated: "The database is busy. Please retry shortly.",
  closed: "The service is restarting. Please retry shortly.",
};

export function unavailableParts(err: DatabaseUnavailableError): AnswerParts {
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=utf-8",
    "Retry-After": String(err.retryAfter),
    // A cached 503 would outlive the outage.
    "Cache-Control": "no-store",
  };
  // Draining: the client should open its next connection elsewhere (or to the
  // next process), not keep this keep-alive socket, which holds the drain open.
  if (isDraining()) headers.Connection = "close";
  return {
    status: 503,
    headers,
    body: JSON.stringify({
      error: "database_unavailable",
      reason: err.reason,
      message: UNAVAILABLE_MESSAGES[err.reason],
      retryAfter: err.retryAfter,
    }),
  };
}
