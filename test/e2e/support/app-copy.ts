import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error plain ESM script without declarations; its one export is typed below
import { linkLocalPackage as link } from "../../../scripts/link-local-package.mjs";
import { appDir, repoRoot } from "../../../example-app/scripts/next-process.mjs";

const linkLocalPackage = link as (dir: string) => string;

/** Where e2e tests write: git-ignored, inside the repository so root node_modules resolve. */
export const E2E_ARTIFACTS = join(repoRoot, "test", "artifacts", "e2e");

const SKIP = new Set(["node_modules", ".next", "next-env.d.ts", "tsconfig.tsbuildinfo"]);

/**
 * A throwaway copy of example-app/ under test/artifacts/e2e/: its build
 * output, next-env.d.ts and (in dev) its edited files never touch the
 * tracked app, and a test run never collides with `npm run example`.
 */
export function copyExampleApp(label: string): { dir: string; remove(): void } {
  removeCopiesOfDeadRuns();
  const dir = join(E2E_ARTIFACTS, `${label}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(appDir, dir, { recursive: true, filter: (src) => !SKIP.has(src.slice(appDir.length + 1).split("/")[0]!) });
  linkLocalPackage(dir);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A run killed before its cleanup leaves its copy behind, and the root
 * `tsc` (which includes test/) would then typecheck the copy's app files.
 * Copies are named after the test process; those of dead processes go.
 */
function removeCopiesOfDeadRuns(): void {
  let names: string[] = [];
  try {
    names = readdirSync(E2E_ARTIFACTS);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(E2E_ARTIFACTS, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
