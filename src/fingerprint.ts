/**
 * A keyed hash of an adapter's configuration. The registry compares these to
 * notice a changed config in dev (new URL, new pool size) without keeping the
 * config, and so its password, in clear. The key is random per process, so the
 * hash cannot be tested against guessed passwords elsewhere either.
 */

export async function fingerprint(key: Uint8Array<ArrayBuffer>, kind: string, config: unknown): Promise<string> {
  const subtle = globalThis.crypto.subtle;
  const hmacKey = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const text = `${kind}\u0000${stableStringify(config)}`;
  const mac = await subtle.sign("HMAC", hmacKey, new TextEncoder().encode(text));
  return Buffer.from(mac).toString("base64url");
}

/** JSON with sorted keys; functions by source, cycles and exotic values by tag. */
export function stableStringify(value: unknown, seen = new WeakSet<object>()): string {
  switch (typeof value) {
    case "undefined":
      return "u";
    case "function":
      return `f:${JSON.stringify(Function.prototype.toString.call(value))}`;
    case "bigint":
      return `n:${value}`;
    case "symbol":
      return `s:${String(value.description)}`;
    case "object": {
      if (value === null) return "null";
      if (seen.has(value)) return '"[cycle]"';
      seen.add(value);
      try {
        if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v, seen)).join(",")}]`;
        if (ArrayBuffer.isView(value)) return `b:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
        if (value instanceof Date) return `d:${value.getTime()}`;
        if (value instanceof RegExp) return `r:${String(value)}`;
        const keys = Object.keys(value).sort();
        const body = keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k], seen)}`);
        const ctor = (value as object).constructor;
        const tag = ctor && ctor !== Object ? `${ctor.name}` : "";
        return `${tag}{${body.join(",")}}`;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return JSON.stringify(value);
  }
}
