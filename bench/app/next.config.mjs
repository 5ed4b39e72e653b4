// The bench app lives inside the repository and imports the package through a
// symlink to the repository root (scripts/link-local-package.mjs), so Turbopack
// and file tracing must treat the repository root as the project root.
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export default {
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // pg and mongodb are external by default in Next.js; mysql2 is not. All three
  // must be loaded from node_modules at run time so the bench's preload
  // (preload/count-connects.mjs) counts connects on the same module instances
  // the app and the package use.
  serverExternalPackages: ["pg", "mongodb", "mysql2"],
  poweredByHeader: false,
};
