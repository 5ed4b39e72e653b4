import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The app lives inside the package's repository and resolves next, react and
// the drivers from the repository's node_modules; next-db-connect itself is a
// symlink to the repository root (scripts/link-local-package.mjs).
const appDir = dirname(fileURLToPath(import.meta.url));
// Where `next` is installed (the repository root, also from a copy of the app
// under test/artifacts/): Turbopack's root must contain node_modules.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.resolve("next/package.json"))), "../..");

// next-connect 0.13 is installed under the alias "next-connect-v0". tsconfig
// `paths` points that name at local declarations (the package's own would
// shadow next-connect v1's types), and Turbopack honours `paths` too; this
// alias sends the bundler back to the package's real ESM build.
const nextConnectV0 = "./" + relative(appDir, fileURLToPath(import.meta.resolve("next-connect-v0")));

/** @type {import("next").NextConfig} */
export default {
  // The end-to-end tests build into their own folder, so a test run and
  // `npm run example` never overwrite each other's build.
  distDir: process.env.EXAMPLE_DIST_DIR || ".next",
  turbopack: { root: repoRoot, resolveAlias: { "next-connect-v0": nextConnectV0 } },
  outputFileTracingRoot: repoRoot,
  poweredByHeader: false,
};
