import { describe, expect, it } from "vitest";
import { createRedactor, sanitizeError, secretsOfUrl } from "../src/redact.js";
import { stableStringify } from "../src/fingerprint.js";

describe("redaction", () => {
  it("masks credentials in any URL, even ones it was not told about", () => {
    const redact = createRedactor([]);
    expect(redact("failed: postgres://app:s3cret@db:5432/x and mysql://u:p%40ss@h/db")).toBe(
      "failed: postgres://app:***@db:5432/x and mysql://u:***@h/db",
    );
    expect(redact("mongodb+srv://admin:hunter22@cluster0.example.net/app")).toBe("mongodb+srv://admin:***@cluster0.example.net/app");
    // Control: text without credentials is left alone.
    expect(redact("connect ECONNREFUSED 127.0.0.1:5432")).toBe("connect ECONNREFUSED 127.0.0.1:5432");
  });

  it("masks known secrets in raw, URL-encoded and decoded form, whole URLs first", () => {
    const url = "postgres://app:p@ss/w0rd!@db/x".replace("p@ss/w0rd!", encodeURIComponent("p@ss/w0rd!"));
    const redact = createRedactor(secretsOfUrl(url));
    expect(redact(`could not use ${url}`)).toBe("could not use ***");
    expect(redact("password p@ss/w0rd! was rejected")).toBe("password *** was rejected");
    expect(redact(`encoded ${encodeURIComponent("p@ss/w0rd!")}`)).toBe("encoded ***");
  });

  it("ignores secrets too short to mask meaningfully", () => {
    expect(createRedactor(["ab", "", "x"])("ab x cab")).toBe("ab x cab");
  });

  it("sanitizeError keeps name, code and stack frames, and drops other properties", () => {
    const original = Object.assign(new Error("auth failed for postgres://u:topsecret@h/db"), {
      code: "28P01",
      config: { password: "topsecret" },
    });
    const copy = sanitizeError(original, createRedactor(["topsecret"]));
    expect(copy.message).toBe("auth failed for postgres://u:***@h/db");
    expect((copy as Error & { code?: string }).code).toBe("28P01");
    expect(copy.stack).toContain("redact.test.ts");
    expect(copy.stack).not.toContain("topsecret");
    expect(copy).not.toHaveProperty("config");
  });
});

describe("stableStringify (the fingerprint's input)", () => {
  it("does not depend on key order and tells different configs apart", () => {
    expect(stableStringify({ a: 1, b: { c: [1, 2], d: "x" } })).toBe(stableStringify({ b: { d: "x", c: [1, 2] }, a: 1 }));
    expect(stableStringify({ max: 10 })).not.toBe(stableStringify({ max: 11 }));
    expect(stableStringify({ ssl: { ca: Buffer.from("a") } })).not.toBe(stableStringify({ ssl: { ca: Buffer.from("b") } }));
  });
  it("survives cycles", () => {
    const config: Record<string, unknown> = { host: "h" };
    config.self = config;
    expect(stableStringify(config)).toContain("[cycle]");
  });
});
