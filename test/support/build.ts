import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

type Entry = "index" | "pg" | "mysql2" | "mongodb";

export interface Build {
  dir: string;
  /** file: URL of an entry's ESM build, for `import()` (here or in a child process). */
  esm(entry: Entry): string;
  /** Path of an entry's CJS build, for `require()`. */
  cjs(entry: Entry): string;
  remove(): Promise<void>;
}

/**
 * Builds the package with the real tsup.config.ts (ESM + CJS, no .d.ts, under
 * a second) into a private folder under test/artifacts/ (git-ignored), for
 * tests that load the published form: both module formats in one process, or
 * the package in a plain `node` child, which cannot import TypeScript.
 *
 * Not `dist/`: tsup cleans its output folder first, and a concurrent build
 * must not pull files from under another test. The folder sits inside the
 * repository so the built files resolve the drivers from its node_modules.
 */
export async function buildPackage(): Promise<Build> {
  const dir = join(projectRoot, "test", "artifacts", `build-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir, { recursive: true });
  const script = `import("tsup").then((m) => m.build({ config: "tsup.config.ts", outDir: ${JSON.stringify(dir)}, dts: false, silent: true }))`;
  await run(process.execPath, ["--input-type=module", "-e", script], { cwd: projectRoot, timeout: 60_000 });
  return {
    dir,
    esm: (entry) => pathToFileURL(join(dir, `${entry}.js`)).href,
    cjs: (entry) => join(dir, `${entry}.cjs`),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
