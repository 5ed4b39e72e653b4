import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as TsMorph from "ts-morph";

/**
 * The parser is ts-morph (the TypeScript compiler's own parser, so one parser
 * reads JS, JSX, TS, TSX, CommonJS and ESM). It is an optional peer, never a
 * runtime dependency: the package is installed into every app, the codemod is
 * run once. So it is loaded here, at run time, from wherever it can be found.
 */
export const PARSER = "ts-morph";
// Both replaced at build time (tsup `define`) from package.json, so the
// re-run command names exactly this version and the peer range it declares.
declare const __NDC_VERSION__: string;
declare const __NDC_PARSER_RANGE__: string;
export const VERSION = typeof __NDC_VERSION__ === "string" ? __NDC_VERSION__ : "0.0.0-dev";
export const PARSER_RANGE = typeof __NDC_PARSER_RANGE__ === "string" ? __NDC_PARSER_RANGE__ : "^28";

/** Set on the re-run so a second miss prints the command instead of looping. */
export const REEXEC_ENV = "NDC_CODEMOD_REEXEC";

export let Morph: typeof TsMorph;
export let SK: typeof TsMorph.SyntaxKind;

/** Where ts-morph can come from: beside this package, or the app being migrated. */
function resolveParser(cwd: string): string | null {
  const from = [import.meta.url, pathToFileURL(join(cwd, "package.json")).href];
  for (const base of from) {
    try {
      return createRequire(base).resolve(PARSER);
    } catch {
      // not there; try the next place
    }
  }
  return null;
}

export async function loadParser(cwd: string): Promise<boolean> {
  const resolved = resolveParser(cwd);
  if (!resolved) return false;
  const mod = (await import(pathToFileURL(resolved).href)) as typeof TsMorph & { default?: typeof TsMorph };
  Morph = (mod.Project ? mod : mod.default) as typeof TsMorph;
  SK = Morph.SyntaxKind;
  return true;
}

/** The one-line command that runs this same CLI with the parser present. */
export function npxCommand(args: readonly string[]): string[] {
  return ["npx", "--yes", "-p", `${PARSER}@${PARSER_RANGE}`, "-p", `next-db-connect@${VERSION}`, "next-db-connect", ...args];
}

function quote(arg: string): string {
  return /^[\w@^~.:/=+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(quote).join(" ");
}

/**
 * Parser missing: re-run through npx (which installs both packages into its
 * cache, not into the app), unless `--no-install` was given or this already is
 * the re-run. Returns the exit code to leave with.
 */
export function runWithParser(args: readonly string[], install: boolean, err: (line: string) => void): number {
  const argv = npxCommand(args);
  if (!install || process.env[REEXEC_ENV] === "1") {
    err(`next-db-connect migrate needs the parser "${PARSER}", which is not installed here.`);
    err(`Run it through npx, which fetches the parser without adding it to your app:`);
    err(`  ${shellLine(argv)}`);
    err(`or install it: npm install --save-dev ${PARSER}@'${PARSER_RANGE}'`);
    return 3;
  }
  err(`"${PARSER}" is not installed; running: ${shellLine(argv)}`);
  const child = spawnSync(argv[0]!, argv.slice(1), {
    stdio: "inherit",
    env: { ...process.env, [REEXEC_ENV]: "1" },
    shell: process.platform === "win32",
  });
  if (child.error) {
    err(`could not run npx (${child.error.message}). Run the command above yourself.`);
    return 3;
  }
  return child.status ?? 3;
}
