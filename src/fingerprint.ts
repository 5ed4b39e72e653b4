/**
 * The identity of an adapter's configuration: a keyed hash of it. The registry
 * compares these to notice a changed config in dev (new URL, new pool size)
 * without keeping the config, and so its password, in clear. The key is random
 * per process, so the hash cannot be tested against guessed passwords elsewhere.
 */

export async function fingerprint(key: Uint8Array<ArrayBuffer>, kind: string, config: unknown): Promise<string> {
  const text = `${kind}\u0000${stableStringify(config)}`;
  const hmac = nodeHmac();
  if (hmac) return hmac("sha256", key).update(text).digest("base64url");
  const subtle = globalThis.crypto.subtle;
  const hmacKey = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await subtle.sign("HMAC", hmacKey, new TextEncoder().encode(text));
  return Buffer.from(mac).toString("base64url");
}

type CreateHmac = (algorithm: string, key: Uint8Array) => { update(text: string): { digest(encoding: "base64url"): string } };

/**
 * node:crypto's HMAC, when Node can hand it over without an import (20.16+):
 * it is synchronous and already loaded, where WebCrypto's first use costs
 * tens of milliseconds on the first request's path (a cold start). The same
 * key and text give the same MAC either way. No static import of node:crypto,
 * which an Edge bundle could not resolve.
 */
function nodeHmac(): CreateHmac | null {
  try {
    const crypto = (process as { getBuiltinModule?: (id: string) => { createHmac?: CreateHmac } | undefined }).getBuiltinModule?.("node:crypto");
    return typeof crypto?.createHmac === "function" ? crypto.createHmac : null;
  } catch {
    return null;
  }
}

/**
 * JSON with sorted keys, for what identifies a database: values, not code.
 *
 * A function counts only as "a function here". The same `lib/database.ts` is
 * compiled and minified separately into each Next.js bundle (Pages, App,
 * instrumentation), so a password callback, a TLS `checkServerIdentity` or a
 * type parser has a different source text, and is a different object, in each:
 * hashing its source made every bundle see "a changed config" and close the
 * other's pool. For the same reason class instances count by their fields, not
 * by their constructor's (minifiable) name.
 */
export function stableStringify(value: unknown, seen = new WeakSet<object>()): string {
  switch (typeof value) {
    case "undefined":
      return "u";
    case "function":
      return "f";
    case "bigint":
      return `n:${value}`;
    case "symbol":
      return `s:${String(value.description)}`;
    case "object": {
      if (value === null) return "null";
      if (seen.has(value)) return '"[cycle]"';
      seen.add(value);
      try {
        return objectText(value, seen);
      } finally {
        seen.delete(value);
      }
    }
    default:
      return JSON.stringify(value);
  }
}

function objectText(value: object, seen: WeakSet<object>): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v, seen)).join(",")}]`;
  if (ArrayBuffer.isView(value)) return `b:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (value instanceof RegExp) return `r:${String(value)}`;
  if (value instanceof URL) return `url:${JSON.stringify(value.href)}`;
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${stableStringify(k, seen)}=>${stableStringify(v, seen)}`).sort();
    return `map{${entries.join(",")}}`;
  }
  if (value instanceof Set) return `set{${[...value].map((v) => stableStringify(v, seen)).sort().join(",")}}`;
  const keys = Object.keys(value).sort();
  const body = keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k], seen)}`);
  return `{${body.join(",")}}`;
}
