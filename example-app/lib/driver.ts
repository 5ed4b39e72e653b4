/**
 * Which database the example runs on, read from the environment when the
 * server starts (never at build time), so one build serves all three:
 * DATABASE_URL → PostgreSQL, MYSQL_URL → MySQL/MariaDB, MONGODB_URI → MongoDB.
 * With none set, PostgreSQL: `npm run example` then starts an embedded one
 * and sets DATABASE_URL for the app.
 */
export type Driver = "pg" | "mysql2" | "mongodb";

export function chosenDriver(env: NodeJS.ProcessEnv = process.env): Driver {
  if (env.DATABASE_URL) return "pg";
  if (env.MYSQL_URL) return "mysql2";
  if (env.MONGODB_URI) return "mongodb";
  return "pg";
}

/** The pool's application_name, so connections can be counted in pg_stat_activity. */
export const APPLICATION_NAME = "next-db-connect-example";

/** Pool size, the same for every driver. */
export const POOL_MAX = 5;
