import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../support/build.js";

const run = promisify(execFile);
export const CLI = join(projectRoot, "dist", "cli.js");
export const FIXTURES = join(projectRoot, "test", "fixtures", "codemod");
const ARTIFACTS = join(projectRoot, "test", "artifacts", "codemod");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * dist/ as published: the CLI (dist/cli.js) and the library with its
 * declarations (next build typechecks the migrated app against them).
 * Rebuilt only when a source is newer than the build.
 */
export function ensureBuilt(): void {
  const marks = [CLI, join(projectRoot, "dist", "index.d.ts"), join(projectRoot, "dist", "index.cjs")];
  const sources = Math.max(...["cli", "src", "middleware"].map((d) => newest(join(projectRoot, d))), ...["tsup.config.ts", "index.ts"].map((f) => statSync(join(projectRoot, f)).mtimeMs));
  if (marks.every((m) => existsSync(m) && statSync(m).mtimeMs >= sources)) return;
  execFileSync("npx", ["tsup", "--silent"], { cwd: projectRoot, stdio: "ignore" });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (`node dist/cli.js ...`, which is what the bin runs). */
export async function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; bin?: string } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [options.bin ?? CLI, ...args], {
      cwd: options.cwd ?? projectRoot,
      env: options.env ?? process.env,
      timeout: 120_000,
      maxBuffer: 10_000_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A fresh copy of a fixture app under test/artifacts/codemod/ (git-ignored). */
export function copyFixture(name: string, label = name): { dir: string; remove(): void } {
  const dir = join(ARTIFACTS, `${label}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file of a folder with its text, for before/after comparisons. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === ".next") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

/**
 * The same CLI, in this process, from its source: what most CLI tests use,
 * since the machine is shared and each `node dist/cli.js` loads the parser
 * again. The built bin itself runs in the app and parser-missing tests.
 */
export async function cliInProcess(args: string[]): Promise<CliResult> {
  const { main } = await import("../../../cli/main.js");
  let stdout = "";
  let stderr = "";
  const code = await main(args, { out: (t) => void (stdout += `${t}\n`), err: (t) => void (stderr += `${t}\n`) });
  return { code, stdout, stderr };
}
