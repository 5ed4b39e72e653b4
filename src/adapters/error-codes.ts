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

/** True when `err` or one of its nested errors (AggregateError, cause) has one of `codes`. */
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
