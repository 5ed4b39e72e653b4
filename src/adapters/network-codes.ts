/** Socket-level failures: the server cannot be reached, whatever the driver. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EPIPE",
]);

/** TLS failures of a connect: the certificate or the server's TLS setup does not match the configuration. */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

/**
 * True when `err` or one of its nested errors (AggregateError, cause) has one
 * of `codes`. Only for errors already known to be the driver's: a driver
 * often wraps the socket's own error.
 */
export function hasErrorCode(err: unknown, codes: ReadonlySet<string>, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 3) return false;
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === "string" && codes.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => hasErrorCode(inner, codes, depth + 1))) return true;
  return hasErrorCode(e.cause, codes, depth + 1);
}

export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : "";
}
