import { execFileSync } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Tests that load the published form of the package (ESM + CJS copies, child
 * processes) need `dist/`. `npm test` builds first; this rebuilds only when a
 * test file is run on its own after a source change.
 */
export function ensureBuilt(): void {
  const marker = join(ROOT, "dist/index.cjs");
  const sources = Math.max(newestSource(join(ROOT, "src")), newestSource(join(ROOT, "middleware")));
  if (existsSync(marker) && statSync(marker).mtimeMs >= sources) return;
  execFileSync("npx", ["tsup", "--silent"], { cwd: ROOT, stdio: "ignore" });
}
