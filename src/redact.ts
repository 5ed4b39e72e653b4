/**
 * Removes credentials from anything that may be shown: error messages, stacks,
 * log lines, stats and health output.
 *
 * Two layers: the exact secrets collected from the adapter's configuration
 * (passwords and whole connection strings, in raw and URL-encoded form), and a
 * pattern for any `scheme://user:password@` that slipped through, such as a URL
 * echoed back by a driver.
 */

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s:]*):([^/?#@\s]*)@/gi;
const MASK = "***";

export type Redactor = (text: string) => string;

export function createRedactor(secrets: readonly string[]): Redactor {
  const needles = expandSecrets(secrets);
  return (text) => {
    let out = text;
    for (const needle of needles) {
      if (out.includes(needle)) out = out.split(needle).join(MASK);
    }
    return out.replace(URL_CREDENTIALS, `$1$2:${MASK}@`);
  };
}

/** Longest first, so a connection string is masked whole before its password. */
function expandSecrets(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const secret of secrets) {
    // Very short values would mask unrelated text and protect nothing.
    if (typeof secret !== "string" || secret.length < 3) continue;
    all.add(secret);
    for (const variant of [safeEncode(secret), safeDecode(secret)]) {
      if (variant && variant.length >= 3) all.add(variant);
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

function safeEncode(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Secrets inside a connection URL: the whole string and its password. */
export function secretsOfUrl(url: unknown): string[] {
  if (typeof url !== "string" || url.length === 0) return [];
  const found = [url];
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*:([^/?#@]*)@/i.exec(url);
  if (match?.[1]) found.push(match[1]);
  return found;
}

/** An Error-like value turned into a short description that is safe to show. */
export function describeError(err: unknown, redact: Redactor): { message: string; code?: string; name?: string } {
  if (err instanceof Error || (typeof err === "object" && err !== null && "message" in err)) {
    const e = err as { message?: unknown; code?: unknown; name?: unknown; errno?: unknown };
    const code = e.code ?? e.errno;
    return {
      message: redact(String(e.message ?? "")),
      ...(code !== undefined && code !== null ? { code: redact(String(code)) } : {}),
      ...(typeof e.name === "string" ? { name: e.name } : {}),
    };
  }
  return { message: redact(String(err)) };
}

/**
 * A copy of a driver error that keeps what helps debugging (name, code,
 * message, stack) with secrets masked. The original is not kept: drivers attach
 * connection options to some errors.
 */
export function sanitizeError(err: unknown, redact: Redactor): Error {
  const { message, code, name } = describeError(err, redact);
  const copy = new Error(message);
  if (name) copy.name = name;
  if (code !== undefined) (copy as Error & { code?: string }).code = code;
  const stack = (err as { stack?: unknown } | null)?.stack;
  copy.stack = typeof stack === "string" ? redact(stack) : `${copy.name}: ${message}`;
  return copy;
}
