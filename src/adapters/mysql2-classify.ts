import type { Failure } from "../failure.js";
import { hasErrorCode, messageOf, NETWORK_ERROR_CODES, TLS_ERROR_CODES } from "./network-codes.js";

/**
 * What an error mysql2 raised means. `phase` is where it was raised: a
 * checkout (which may open a connection) or a command on an open connection,
 * where an unknown database is the query's own mistake, not the configuration's.
 */
export function classifyMysql(err: unknown, phase: "checkout" | "command"): Failure | "app" {
  const code = (err as { code?: unknown } | null)?.code;
  const message = messageOf(err);
  if (/^Pool is closed/.test(message)) return "closed";
  if (typeof code === "string" && SATURATED_CODES.has(code)) return "saturated";
  if (/^(Queue limit reached|No connections available)/.test(message)) return "saturated";
  if (typeof code === "string" && MISCONFIGURED_CODES.has(code)) return "misconfigured";
  if (phase === "checkout" && (code === "ER_BAD_DB_ERROR" || hasErrorCode(err, TLS_ERROR_CODES))) return "misconfigured";
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return "unreachable";
  if (hasErrorCode(err, NETWORK_ERROR_CODES) || UNREACHABLE_MESSAGES.test(message)) return "unreachable";
  return "app";
}

/** The server refused a new connection at a connection limit (the learned cap's trigger). */
export function isServerLimit(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ER_CON_COUNT_ERROR" || code === "ER_TOO_MANY_USER_CONNECTIONS" || code === "ER_USER_LIMIT_REACHED";
}

const SATURATED_CODES: ReadonlySet<string> = new Set([
  "ER_CON_COUNT_ERROR", // 1040: the server's max_connections
  "ER_TOO_MANY_USER_CONNECTIONS", // 1203: max_user_connections / the account's MAX_USER_CONNECTIONS
  "ER_USER_LIMIT_REACHED", // 1226: an account resource limit (connections per hour)
]);

const MISCONFIGURED_CODES: ReadonlySet<string> = new Set([
  "ER_ACCESS_DENIED_ERROR", // 1045: wrong user or password
  "ER_ACCESS_DENIED_NO_PASSWORD_ERROR", // 1698
  "ER_DBACCESS_DENIED_ERROR", // 1044: no access to that database
  "ER_NOT_SUPPORTED_AUTH_MODE", // 1251
  "ER_HOST_NOT_PRIVILEGED", // 1130: this host may not connect
  "ER_HOST_IS_BLOCKED", // 1129: blocked after too many connection errors (FLUSH HOSTS)
  "HANDSHAKE_NO_SSL_SUPPORT",
  "AUTH_SWITCH_PLUGIN_ERROR",
]);

const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ER_SERVER_SHUTDOWN", // 1053
  "ER_CONNECTION_KILLED", // MariaDB 1927: KILL of this connection
  "ER_SERVER_GONE_ERROR",
  "ER_SERVER_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT", // a query's `timeout` fired: no answer from the server in time
]);

const UNREACHABLE_MESSAGES = /closed state|Connection lost/i;
