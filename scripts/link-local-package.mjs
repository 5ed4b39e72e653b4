// Makes `import "next-db-connect"` inside an app folder of this repository
// (example-app/, bench/app/) resolve to this checkout's build in dist/, the
// way `npm install ../` would, without a second install of Next.js: the app's
// own node_modules holds only a symlink to the repository root, and every
// other package (next, react, the drivers) resolves from the root node_modules.
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function linkLocalPackage(appDir) {
  const link = join(appDir, "node_modules", "next-db-connect");
  const target = relative(dirname(link), repoRoot);
  if (existsSync(join(repoRoot, "dist", "index.js")) === false) {
    throw new Error("next-db-connect is not built: run `npm run build` in the repository root first.");
  }
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) return link;
    rmSync(link, { recursive: true, force: true });
  } catch {
    // no link yet
  }
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, "dir");
  return link;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of process.argv.slice(2)) console.log(linkLocalPackage(resolve(dir)));
}
