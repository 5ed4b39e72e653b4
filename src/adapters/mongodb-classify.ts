import type { Failure, Verdict } from "../failure.js";
import { hasErrorCode, TLS_ERROR_CODES } from "./network-codes.js";

/**
 * What an error means, if the MongoDB driver raised it. The driver's errors
 * are its own classes, all named `Mongo…`: anything else (a failed `fetch()`,
 * an HTTP client's ETIMEDOUT) is not the database's.
 */
export function classifyMongo(err: unknown, clientClosed = false): Verdict {
  if (typeof err !== "object" || err === null) return null;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (typeof name !== "string" || !name.startsWith("Mongo")) return null;
  const failure = mongoFailure(err, name, code);
  // `close()` ends the implicit sessions of operations still waiting for a
  // connection (MongoExpiredSessionError, otherwise an app's own mistake) and
  // cuts the connections in use: for a client the package closed, both are the close.
  if (clientClosed && (failure === "unreachable" || name === "MongoExpiredSessionError")) return "closed";
  return failure;
}

function mongoFailure(err: object, name: string, code: unknown): Failure | "app" {
  if (CLOSED_NAMES.has(name)) return "closed";
  if (SATURATED_NAMES.has(name)) return "saturated";
  if (MISCONFIGURED_NAMES.has(name) || (typeof code === "number" && MISCONFIGURED_CODES.has(code))) return "misconfigured";
  // Server selection fails with the reason it could not reach a server: a certificate problem is not an outage.
  if (name === "MongoServerSelectionError" && hasErrorCode(reasonOf(err), TLS_ERROR_CODES)) return "misconfigured";
  if (UNREACHABLE_NAMES.has(name) || (typeof code === "number" && UNREACHABLE_CODES.has(code))) return "unreachable";
  return "app";
}

function reasonOf(err: object): unknown {
  const { reason, cause } = err as { reason?: { error?: unknown }; cause?: unknown };
  return cause ?? reason?.error;
}

const CLOSED_NAMES: ReadonlySet<string> = new Set(["MongoTopologyClosedError", "MongoPoolClosedError", "MongoClientClosedError"]);
const SATURATED_NAMES: ReadonlySet<string> = new Set(["MongoWaitQueueTimeoutError"]);
const MISCONFIGURED_NAMES: ReadonlySet<string> = new Set(["MongoParseError", "MongoMissingCredentialsError"]);
/** 18 AuthenticationFailed; 8000 Atlas's "bad auth". */
const MISCONFIGURED_CODES: ReadonlySet<number> = new Set([18, 8000]);

const UNREACHABLE_NAMES: ReadonlySet<string> = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoNotConnectedError",
  "MongoPoolClearedError",
  "MongoServerClosedError",
  "MongoOperationTimeoutError",
]);

/** Server codes for a node shutting down or stepping down. */
const UNREACHABLE_CODES: ReadonlySet<number> = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);
