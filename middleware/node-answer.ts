import type { DatabaseUnavailableError } from "../src/errors.js";
import type { Answer } from "../src/request.js";
import { unavailableParts, type AnswerParts } from "./answer-body.js";

/** The parts of a Node `ServerResponse` the package writes to. */
export interface NodeResponse {
  headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  destroy?(error?: Error): unknown;
  once(event: "close", listener: () => void): unknown;
  closed?: boolean;
  destroyed?: boolean;
}

export function isNodeResponse(value: unknown): value is NodeResponse {
  const res = value as NodeResponse | null;
  return typeof res?.setHeader === "function" && typeof res.end === "function" && typeof res.once === "function";
}

/**
 * Answers for a Node response (Pages API routes, next-connect, Express,
 * connect): a 503 is written to it; a rejected configuration goes to the
 * router's error path (`giveBack`: thrown, or `next(err)` for routers whose
 * `next` takes an error), where the app's error handler and error tracker see it.
 */
export function nodeAnswer(res: NodeResponse, giveBack: (err: Error) => void = rethrow): Answer<void> {
  return {
    unavailable: (err: DatabaseUnavailableError) => writeUnavailable(res, err),
    misconfigured: giveBack,
  };
}

export function writeUnavailable(res: NodeResponse, err: DatabaseUnavailableError): void {
  write(res, unavailableParts(err));
}

function rethrow(err: Error): never {
  throw err;
}

function write(res: NodeResponse, { status, headers, body }: AnswerParts): void {
  if (res.headersSent) {
    // Too late for a status code: end the response so the client sees a failure, not a hang.
    res.destroy ? res.destroy() : res.end();
    return;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}
