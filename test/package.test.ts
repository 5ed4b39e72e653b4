/**
 * The published shape: publint and arethetypeswrong find no problems in the
 * ESM + CJS builds and the subpath exports, and the tarball holds only dist/
 * and the README.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ensureBuilt, ROOT } from "./support/dist.js";

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("package", () => {
  it("publint: all good", () => {
    ensureBuilt();
    expect(run("npx", ["--no-install", "publint"])).toMatch(/All good/);
  });

  it("arethetypeswrong: no problems for ., ./pg, ./mysql2, ./mongodb, ./mongoose", () => {
    ensureBuilt();
    const report = JSON.parse(run("npx", ["--no-install", "attw", "--pack", ".", "--format", "json"]));
    expect(Array.isArray(report.analysis.problems)).toBe(true);
    expect(report.analysis.problems).toEqual([]);
    const entrypoints = Object.keys(report.analysis.entrypoints);
    expect(entrypoints).toEqual(expect.arrayContaining([".", "./pg", "./mysql2", "./mongodb", "./mongoose"]));
  }, 120_000); // packs and analyses five entry points: 30 s on a loaded 2-core machine

  it("the tarball ships dist and the README, not sources or tests", () => {
    ensureBuilt();
    const [pack] = JSON.parse(run("npm", ["pack", "--dry-run", "--json"]));
    const files: string[] = pack.files.map((f: { path: string }) => f.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/pg.cjs");
    expect(files).toContain("README.md");
    expect(files.filter((f) => /^(src|test|middleware)\//.test(f))).toEqual([]);
  });

  it("has no runtime dependencies; drivers are optional peers", async () => {
    const pkg = JSON.parse(run("cat", ["package.json"]));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const driver of ["pg", "mysql2", "mongodb", "mongoose", "next", "next-connect"]) {
      expect(pkg.peerDependenciesMeta[driver]).toEqual({ optional: true });
    }
  });
});
