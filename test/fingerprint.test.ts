/**
 * The config fingerprint takes node:crypto's synchronous HMAC where Node
 * offers it without an import (it used WebCrypto, whose first use costs tens
 * of milliseconds on a cold start's first request). Both must give the same
 * value, or two copies of the package in one process, one on each path, would
 * see two databases.
 */
import { describe, expect, it } from "vitest";
import { fingerprint, stableStringify } from "../src/fingerprint.js";

async function webCryptoMac(key: Uint8Array<ArrayBuffer>, text: string): Promise<string> {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return Buffer.from(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(text))).toString("base64url");
}

describe("fingerprint", () => {
  it("is the same HMAC-SHA-256 WebCrypto computes, for any config", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    for (const config of [{}, { connectionString: "postgres://u:pw@h/db", max: 5 }, { password: () => "x", ssl: { rejectUnauthorized: false } }, undefined]) {
      expect(await fingerprint(key, "pg", config)).toBe(await webCryptoMac(key, `pg\u0000${stableStringify(config)}`));
    }
  });

  it("without process.getBuiltinModule (older Node 20), falls back to WebCrypto with the same result", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const fast = await fingerprint(key, "mysql2", { uri: "mysql://h/db" });
    const saved = (process as { getBuiltinModule?: unknown }).getBuiltinModule;
    (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
    try {
      expect(await fingerprint(key, "mysql2", { uri: "mysql://h/db" })).toBe(fast);
    } finally {
      (process as { getBuiltinModule?: unknown }).getBuiltinModule = saved;
    }
  });
});
