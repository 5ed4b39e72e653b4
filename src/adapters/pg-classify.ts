import type { Failure } from "../failure.js";
import { hasErrorCode, messageOf, NETWORK_ERROR_CODES, TLS_ERROR_CODES } from "./network-codes.js";
import { isPgbouncerClientLimit, pgbouncerVerdict } from "./pgbouncer-errors.js";

/**
 * What an error node-postgres raised means. `waited` is true when it came from
 * a checkout that queued for a busy pool's connection.
 */
export function classifyPg(err: unknown, waited: boolean): Failure | "app" {
  const code = (err as { code?: unknown } | null)?.code;
  const message = messageOf(err);
  if (CLOSED.test(message)) return "closed";
  // pg-pool's own queue timer; a new connection that times out says "Connection terminated due to connection timeout".
  if (QUEUE_TIMEOUT.test(message) || (waited && hasErrorCode(err, TIMEOUT))) return "saturated";
  if (code === "53300") return "saturated"; // too_many_connections: server, role or database limit
  const pooler = pgbouncerVerdict(code, message); // before the 08 class: PgBouncer says 08P01 for everything
  if (pooler !== null) return pooler;
  if (typeof code === "string" && MISCONFIGURED_CODES.has(code)) return "misconfigured";
  if (hasErrorCode(err, TLS_ERROR_CODES) || MISCONFIGURED_MESSAGES.test(message)) return "misconfigured";
  if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || code.startsWith("08"))) return "unreachable";
  if (hasErrorCode(err, NETWORK_ERROR_CODES) || UNREACHABLE_MESSAGES.test(message)) return "unreachable";
  return "app";
}

/** The server (or PgBouncer) refused a new connection at a connection limit (the learned cap's trigger). */
export function isServerLimit(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "53300" || isPgbouncerClientLimit(code, messageOf(err));
}

const CLOSED = /Cannot use a pool after calling end on the pool/;
const QUEUE_TIMEOUT = /timeout exceeded when trying to connect/;
const TIMEOUT: ReadonlySet<string> = new Set(["ETIMEDOUT"]);

const MISCONFIGURED_CODES: ReadonlySet<string> = new Set([
  "28P01", // invalid_password
  "28000", // invalid_authorization_specification: no pg_hba.conf entry, unknown role
  "3D000", // invalid_catalog_name: the database does not exist
]);

const MISCONFIGURED_MESSAGES =
  /does not support SSL connections|SCRAM-SERVER-FIRST-MESSAGE: client password must be a string|self.signed certificate|certificate has expired/i;

const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up, shutting down, in recovery
]);

// "Query read timeout" is `query_timeout` firing: the server did not answer in time.
const UNREACHABLE_MESSAGES =
  /Connection terminated|Connection ended unexpectedly|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout/i;
