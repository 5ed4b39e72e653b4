// Strategies d and e: this package. Each strategy has its own database name
// (the registry key) and its own server identity, so the pools are counted
// apart even though both live in the same process.
import { createDatabase } from "next-db-connect";
import { mongodb } from "next-db-connect/mongodb";
import { mysql2 } from "next-db-connect/mysql2";
import { pg } from "next-db-connect/pg";
import { MONGO_DB, POOL_MAX, urlFor } from "./settings";

function databasesFor(strategy: "d" | "e") {
  return {
    pg: createDatabase(pg({ connectionString: urlFor("pg", strategy), max: POOL_MAX }), { name: `bench-pg-${strategy}` }),
    mysql2: createDatabase(mysql2({ uri: urlFor("mysql2", strategy), connectionLimit: POOL_MAX }), { name: `bench-mysql2-${strategy}` }),
    mongodb: createDatabase(mongodb({ url: urlFor("mongodb", strategy), dbName: MONGO_DB, maxPoolSize: POOL_MAX }), {
      name: `bench-mongodb-${strategy}`,
    }),
  };
}

/** Used by the Pages Router route through next-connect. */
export const pagesDatabases = databasesFor("d");
/** Used by the App Router route through database.route(). */
export const appDatabases = databasesFor("e");
