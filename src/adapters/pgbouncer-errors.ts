import type { Failure } from "../failure.js";

/**
 * PgBouncer answers for itself with SQLSTATE 08P01 (protocol_violation)
 * whatever the reason, a code that otherwise means a broken connection. Its
 * message says what happened; the ones that do not mean "unreachable":
 */
const AT_CLIENT_LIMIT = /^(?:no more connections allowed \(max_client_conn\)|client connections exceeded \(max_(?:db|user)_client_connections\))$/;
/** Its server connections were all busy for query_wait_timeout: the database is up, the pooler is full. */
const WAITED_TOO_LONG = /^query_wait_timeout$/;
const REJECTED = /^(?:no such database: |no such user|password authentication failed|"trust" authentication failed|login rejected|SSL required)/;

/** What one of PgBouncer's own errors means, or null when it is not one of those above. */
export function pgbouncerVerdict(code: unknown, message: string): Failure | null {
  if (code !== "08P01") return null;
  if (AT_CLIENT_LIMIT.test(message) || WAITED_TOO_LONG.test(message)) return "saturated";
  if (REJECTED.test(message)) return "misconfigured";
  return null;
}

/** PgBouncer refused a new client connection at its limit; the pool's open ones still work. */
export function isPgbouncerClientLimit(code: unknown, message: string): boolean {
  return code === "08P01" && AT_CLIENT_LIMIT.test(message);
}
