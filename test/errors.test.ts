import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { buildPackage } from "./support/build.js";
import {
  DatabaseConfigError,
  DatabaseError,
  DatabaseRuntimeError,
  DatabaseUnavailableError,
  isDatabaseUnavailableError,
} from "../index.js";

describe("error classes", () => {
  it("carry code, status and the database name", () => {
    const unavailable = new DatabaseUnavailableError("main", "down", 4);
    expect(unavailable).toMatchObject({ code: "DATABASE_UNAVAILABLE", status: 503, retryAfter: 4, database: "main", name: "DatabaseUnavailableError" });
    const config = new DatabaseConfigError("main", "max", "bad max");
    expect(config).toMatchObject({ code: "DATABASE_CONFIG", status: 500, setting: "max" });
    expect(config.message).toBe("next-db-connect: bad max");
    expect(new DatabaseRuntimeError("main", "edge").status).toBe(500);
  });

  it("instanceof distinguishes the classes", () => {
    const unavailable = new DatabaseUnavailableError("main", "down", 1);
    expect(unavailable).toBeInstanceOf(DatabaseError);
    expect(unavailable).toBeInstanceOf(Error);
    expect(unavailable).not.toBeInstanceOf(DatabaseConfigError);
    expect(new DatabaseConfigError("m", "s", "x")).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(new Error("plain")).not.toBeInstanceOf(DatabaseError);
    expect(isDatabaseUnavailableError(unavailable)).toBe(true);
    expect(isDatabaseUnavailableError({ code: "DATABASE_UNAVAILABLE" })).toBe(false);
  });

  it("instanceof answers false, never throws, for a thrown Proxy whose traps throw", () => {
    const hostile = new Proxy({}, { has() { throw new Error("trap"); }, get() { throw new Error("trap"); } });
    expect(hostile instanceof DatabaseError).toBe(false);
    expect(hostile instanceof DatabaseUnavailableError).toBe(false);
    expect(isDatabaseUnavailableError(hostile)).toBe(false);
  });

  it("instanceof works across the ESM and CJS copies of the built package", async () => {
    const build = await buildPackage();
    const cjs = createRequire(import.meta.url)(build.cjs("index"));
    await build.remove();
    const fromCjs = new cjs.DatabaseUnavailableError("main", "down", 2);
    expect(fromCjs).toBeInstanceOf(DatabaseUnavailableError); // ESM-from-source class
    expect(new DatabaseConfigError("m", "s", "x")).toBeInstanceOf(cjs.DatabaseConfigError);
    expect(fromCjs).not.toBeInstanceOf(cjs.DatabaseConfigError);
    // Control: an unbranded look-alike is not accepted.
    class Fake extends Error {
      code = "DATABASE_UNAVAILABLE";
    }
    expect(new Fake()).not.toBeInstanceOf(cjs.DatabaseUnavailableError);
  });
});
