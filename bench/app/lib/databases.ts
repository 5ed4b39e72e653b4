// Strategies d, d-noguard and e: this package. Each strategy has its own
// database name (the registry key) and its own server identity, so the pools
// are counted apart even though they all live in the same process.
import { createDatabase } from "next-db-connect";
import { mongodb } from "next-db-connect/mongodb";
import { mysql2 } from "next-db-connect/mysql2";
import { pg } from "next-db-connect/pg";
import { MONGO_DB, POOL_MAX, urlFor } from "./settings";

/** `leakGuard` is left to the package's default (on) unless given. */
function databasesFor(strategy: "d" | "d-noguard" | "e", extra: { leakGuard?: boolean } = {}) {
  return {
    pg: createDatabase(pg({ connectionString: urlFor("pg", strategy), max: POOL_MAX }), { name: `bench-pg-${strategy}`, ...extra }),
    mysql2: createDatabase(mysql2({ uri: urlFor("mysql2", strategy), connectionLimit: POOL_MAX }), {
      name: `bench-mysql2-${strategy}`,
      ...extra,
    }),
    mongodb: createDatabase(mongodb({ url: urlFor("mongodb", strategy), dbName: MONGO_DB, maxPoolSize: POOL_MAX }), {
      name: `bench-mongodb-${strategy}`,
      ...extra,
    }),
  };
}

export type PackageDatabases = ReturnType<typeof databasesFor>;

/** Used by the Pages Router route through next-connect. */
export const pagesDatabases = databasesFor("d");
/**
 * d-noguard: d with the leak guard off, a diagnostic of what its per-request
 * AsyncLocalStorage scope costs end to end (pg and mysql2 only: the MongoDB
 * adapter tracks no checkouts, so there d-noguard and d run the same code).
 */
export const pagesDatabasesNoGuard = databasesFor("d-noguard", { leakGuard: false });
/** Used by the App Router route through database.route(). */
export const appDatabases = databasesFor("e");
