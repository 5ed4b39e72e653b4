import { createDatabase, type Adapter } from "next-db-connect";
import { mongodb } from "next-db-connect/mongodb";
import { mysql2 } from "next-db-connect/mysql2";
import { pg } from "next-db-connect/pg";
import { APPLICATION_NAME, chosenDriver, POOL_MAX, type Driver } from "./driver";
import { ensureNotesSchema } from "./notes";

const counter = globalThis as { __exampleDatabaseModuleEvaluations?: number };
/**
 * Every Next.js bundle that imports this file (Pages Router, App Router,
 * instrumentation) evaluates it once more, and so does every dev hot reload.
 * The status page shows this count next to the connect count, which stays 1.
 */
export const evaluation = (counter.__exampleDatabaseModuleEvaluations =
  (counter.__exampleDatabaseModuleEvaluations ?? 0) + 1);

export const driver: Driver = chosenDriver();

function adapterFor(kind: Driver): Adapter<unknown, unknown, unknown> {
  const env = process.env;
  switch (kind) {
    case "mysql2":
      return mysql2({ uri: env.MYSQL_URL, connectionLimit: POOL_MAX }) as Adapter<unknown, unknown, unknown>;
    case "mongodb":
      return mongodb({ url: env.MONGODB_URI, dbName: env.MONGODB_DB, maxPoolSize: POOL_MAX }) as Adapter<unknown, unknown, unknown>;
    case "pg":
      return pg({
        connectionString: env.DATABASE_URL,
        max: POOL_MAX,
        application_name: APPLICATION_NAME,
        // Idle connections stay open, so the server-side count is the pool's
        // real footprint rather than whatever survived the idle timeout.
        idleTimeoutMillis: 0,
      }) as Adapter<unknown, unknown, unknown>;
  }
}

export const database = createDatabase(adapterFor(driver), {
  // Runs once per connect (once per process): the notes table or collection.
  onConnect: ({ db }) => ensureNotesSchema(driver, db),
});
