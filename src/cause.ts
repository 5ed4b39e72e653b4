import { describeError, type Redactor } from "./redact.js";

/**
 * A failure explained for a log line: what the driver said, and, when the
 * cause is a socket-level one, what it means in plain words. A refused
 * connection must read as refused and a DNS failure as a DNS failure, not as
 * the package's own "timed out" that happened to fire first.
 */
export function explain(err: unknown, redact: Redactor): string {
  const { message, code } = describeError(err, redact);
  const network = networkCode(err) ?? codeInMessage(message);
  const plain = network ? NETWORK_WORDS[network] : undefined;
  const head = code !== undefined && !message.includes(code) ? `${code}: ${message}` : message || code || "error";
  return plain ? `${plain}: ${head}` : head;
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server or the network",
  ETIMEDOUT: "no answer from the server in time",
  ENOTFOUND: "DNS lookup failed (no such host)",
  EAI_AGAIN: "DNS lookup failed (temporary)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed while writing",
};

/** The first socket-level code on the error or its causes (a driver often wraps the socket's error). */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  let code: unknown;
  let cause: unknown;
  let errors: unknown;
  try {
    ({ code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown });
  } catch {
    return undefined;
  }
  if (typeof code === "string" && code in NETWORK_WORDS) return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = networkCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkCode(cause, depth + 1);
}

/**
 * Some drivers keep only the socket error's message, not the error (MongoDB
 * 4.x's server selection error says "connect ECONNREFUSED 127.0.0.1:27017"
 * with no code or cause to follow); Node's socket messages name the code.
 */
function codeInMessage(message: string): string | undefined {
  for (const match of message.matchAll(/\b(E[A-Z_]{3,})\b/g)) if (match[1]! in NETWORK_WORDS) return match[1];
  return undefined;
}

/** What the server rejected, for `DatabaseConfigError.setting` when a connect is refused as misconfigured. */
export function rejectedSetting(err: unknown): string {
  const text = `${describeError(err, (s) => s).message}`;
  if (/authenticat|password|access denied|not authorized|SCRAM|SASL|no such user/i.test(text)) return "credentials";
  if (/database .*does not exist|unknown database|no (?:such )?database|role .*does not exist/i.test(text)) return "database";
  if (/ssl|tls|certificate|self.signed/i.test(text)) return "tls";
  return "connection";
}
