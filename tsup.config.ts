import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    pg: "src/adapters/pg.ts",
    mysql2: "src/adapters/mysql2.ts",
    mongodb: "src/adapters/mongodb.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  // Shared code (errors, registry access) lives in one chunk so that
  // `next-db-connect` and `next-db-connect/pg` see the same classes.
  splitting: true,
  clean: true,
  target: "node20",
  platform: "node",
  sourcemap: false,
  // Drivers are optional peers, loaded lazily at first connect.
  external: ["pg", "mysql2", "mysql2/promise", "mongodb", "next", "next-connect"],
});
