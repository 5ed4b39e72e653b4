import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as {
  version: string;
  peerDependencies: Record<string, string>;
};

export default defineConfig([
  {
    entry: {
      index: "index.ts",
      pg: "src/adapters/pg.ts",
      mysql2: "src/adapters/mysql2.ts",
      mongodb: "src/adapters/mongodb.ts",
      mongoose: "src/adapters/mongoose.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    // Shared code (errors, registry access) lives in one chunk so that
    // `next-db-connect` and `next-db-connect/pg` see the same classes.
    splitting: true,
    // Both configs write to dist/ at the same time: the library's clean must
    // not delete the CLI the other build may already have written.
    clean: ["!cli.js"],
    target: "node20",
    platform: "node",
    sourcemap: false,
    // Drivers and @vercel/functions are optional peers, loaded lazily at first connect.
    external: ["pg", "mysql2", "mysql2/promise", "mongodb", "mongoose", "next", "next-connect", "@vercel/functions", "@vercel/functions/db-connections"],
  },
  {
    // The codemod: one ESM file, never imported by the library. Its parser
    // (ts-morph) is an optional peer loaded at run time, so it stays external.
    entry: { cli: "cli/index.ts" },
    format: ["esm"],
    dts: false,
    splitting: false,
    clean: false,
    target: "node20",
    platform: "node",
    sourcemap: false,
    banner: { js: "#!/usr/bin/env node" },
    external: ["ts-morph"],
    define: {
      __NDC_VERSION__: JSON.stringify(pkg.version),
      __NDC_PARSER_RANGE__: JSON.stringify(pkg.peerDependencies["ts-morph"] ?? "^28"),
    },
  },
]);
