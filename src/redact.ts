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

/**
 * Secrets inside a connection URL: the whole string (as written and as
 * `new URL()` prints it), the password of its userinfo, and the values of
 * query parameters that carry credentials. Drivers read passwords from the
 * query too: node-postgres takes `?password=`, mysql2 `?password1=` (and
 * every other parameter), the MongoDB driver `?tlsCertificateKeyFilePassword=`
 * and `?authMechanismProperties=AWS_SESSION_TOKEN:...`.
 */
export function secretsOfUrl(url: unknown): string[] {
  if (typeof url !== "string" || url.length === 0) return [];
  const found = [url];
  try {
    found.push(new URL(url).href);
  } catch {
    // not parseable: the driver will say so, and the raw string is masked
  }
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*:([^/?#@]*)@/i.exec(url);
  if (match?.[1]) found.push(match[1]);
  found.push(...credentialParams(url));
  return found;
}

const CREDENTIAL_PARAM = /pass|pwd|secret|token|credential|authmechanismproperties/i;

/** Values of credential-like query parameters, raw and decoded ('+' as a space too, as URLSearchParams reads it). */
function credentialParams(url: string): string[] {
  const query = url.split("#", 1)[0]!.split("?").slice(1).join("?");
  const values: string[] = [];
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || !CREDENTIAL_PARAM.test(safeDecode(pair.slice(0, eq)) ?? pair.slice(0, eq))) continue;
    const raw = pair.slice(eq + 1);
    values.push(raw);
    const plusAsSpace = safeDecode(raw.replace(/\+/g, " "));
    if (plusAsSpace !== undefined) values.push(plusAsSpace);
  }
  return values;
}

/**
 * An Error-like value turned into a short description that is safe to show.
 * Total: drivers and user code throw anything (null-prototype objects, Proxies,
 * objects whose getters throw), and this runs on the error path, where a throw
 * of its own would replace a typed error by an untyped TypeError.
 */
export function describeError(err: unknown, redact: Redactor): { message: string; code?: string; name?: string } {
  if (isObjectLike(err) && (isError(err) || hasKey(err, "message"))) {
    const message = read(err, "message");
    const code = read(err, "code") ?? read(err, "errno");
    const name = read(err, "name");
    return {
      message: redact(message === undefined ? "" : printable(message)),
      ...(code !== undefined && code !== null ? { code: redact(printable(code)) } : {}),
      ...(typeof name === "string" ? { name } : {}),
    };
  }
  return { message: redact(printable(err)) };
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
  const stack = isObjectLike(err) ? read(err, "stack") : undefined;
  copy.stack = typeof stack === "string" ? redact(stack) : `${copy.name}: ${message}`;
  return copy;
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function isError(value: object): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false; // a Proxy's `getPrototypeOf` trap may throw
  }
}

function hasKey(value: object, key: string): boolean {
  try {
    return key in value;
  } catch {
    return false; // a Proxy's `has` trap may throw
  }
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined; // a getter or a Proxy's `get` trap may throw
  }
}

/** `String(value)`, for values that have no string form too (null prototype, throwing toString). */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "[unprintable value]";
    }
  }
}
