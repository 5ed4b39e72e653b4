/**
 * The parser (ts-morph) is an optional peer: a user who runs
 * `npx next-db-connect migrate` without it gets the CLI re-run through
 * `npx --yes -p ts-morph@<range> -p next-db-connect@<version> next-db-connect ...`.
 * Simulated for real: the built dist/cli.js is copied to a folder outside the
 * repository, where neither it nor the app can resolve ts-morph, and `npx` on
 * PATH is a stand-in that records how it was called and then runs the
 * repository's CLI (which has the parser), as npx would after installing.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli, ensureBuilt, FIXTURES } from "./support/cli.js";
import { projectRoot } from "../support/build.js";

const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string; peerDependencies: Record<string, string> };
let tmp = "";
let bin = "";
let app = "";
let log = "";

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), "ndc-noparser-"));
  bin = join(tmp, "pkg", "dist", "cli.js");
  mkdirSync(join(tmp, "pkg", "dist"), { recursive: true });
  cpSync(CLI, bin);
  app = join(tmp, "app");
  cpSync(join(FIXTURES, "cjs-app"), app, { recursive: true });
  mkdirSync(join(tmp, "bin"));
  log = join(tmp, "npx.log");
  const npx = join(tmp, "bin", "npx");
  writeFileSync(
    npx,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "$NPX_LOG"\necho "REEXEC=$NDC_CODEMOD_REEXEC" >> "$NPX_LOG"\nwhile [ "$1" != "next-db-connect" ]; do shift; done\nshift\nexec "${process.execPath}" "${CLI}" "$@"\n`,
  );
  chmodSync(npx, 0o755);
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${join(tmp, "bin")}:${process.env.PATH}`, NPX_LOG: log, NDC_CODEMOD_REEXEC: "", ...extra };
}

describe("ts-morph missing", () => {
  it("the copied CLI really cannot resolve ts-morph (the simulation holds)", () => {
    expect(existsSync(join(tmp, "node_modules"))).toBe(false);
    const req = createRequire(import.meta.url);
    expect(req.resolve("ts-morph")).toContain("node_modules/ts-morph"); // found from the repository...
    expect(() => req.resolve("ts-morph", { paths: [join(tmp, "pkg", "dist"), app] })).toThrow(/Cannot find module 'ts-morph'/); // ...not from there
  });

  it("re-runs itself through npx with the parser and this exact version; the re-run's output and exit code are the CLI's", async () => {
    rmSync(log, { force: true });
    const r = await cli(["migrate", ".", "--check"], { bin, cwd: app, env: env() });
    const range = pkg.peerDependencies["ts-morph"]!;
    expect(r.stderr).toContain(`"ts-morph" is not installed; running: npx --yes -p ts-morph@${range} -p next-db-connect@${pkg.version} next-db-connect migrate . --check`);
    expect(readFileSync(log, "utf8").split("\n")).toEqual(["--yes", "-p", `ts-morph@${range}`, "-p", `next-db-connect@${pkg.version}`, "next-db-connect", "migrate", ".", "--check", "REEXEC=1", ""]);
    // The real run (with the parser) found the fixture's anti-patterns: --check's exit code 1 comes back.
    expect(r.stdout).toContain("middlewares/database.js:12  is-connected");
    expect(r.code).toBe(1);
  });

  it("--no-install prints the one-line command and exits 3 without running npx", async () => {
    rmSync(log, { force: true });
    const r = await cli(["migrate", ".", "--no-install"], { bin, cwd: app, env: env() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`  npx --yes -p ts-morph@${pkg.peerDependencies["ts-morph"]} -p next-db-connect@${pkg.version} next-db-connect migrate . --no-install`);
    expect(r.stderr).toContain("npm install --save-dev ts-morph");
    expect(existsSync(log)).toBe(false);
  });

  it("a re-run that still has no parser does not loop: it prints the command and exits 3", async () => {
    rmSync(log, { force: true });
    const r = await cli(["migrate", "."], { bin, cwd: app, env: env({ NDC_CODEMOD_REEXEC: "1" }) });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/needs the parser "ts-morph"/);
    expect(existsSync(log)).toBe(false);
  });

  it("no npx on PATH: exit 3 with the command to run by hand", async () => {
    const r = await cli(["migrate", "."], { bin, cwd: app, env: { ...process.env, PATH: join(tmp, "empty"), NDC_CODEMOD_REEXEC: "" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/could not run npx \(.*ENOENT.*\)\. Run the command above yourself\./);
  });

  it("bad input is reported before anything is fetched", async () => {
    rmSync(log, { force: true });
    const r = await cli(["migrate", "./nope"], { bin, cwd: app, env: env() });
    expect(r.code).toBe(2);
    expect(existsSync(log)).toBe(false);
  });
});
