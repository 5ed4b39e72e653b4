import type { Pool } from "pg";
import type { BudgetReading, ConnectionLimit } from "../connection-budget.js";

interface Row {
  max_connections: number;
  reserved: number;
  superuser: boolean;
  in_use: number;
  role_limit: number | null;
  role_in_use: number;
  db_limit: number | null;
  db_in_use: number;
  application_name: string;
  role: string;
  database: string;
  app_in_use: number;
}

/*
 * Everything a role without special privileges may read: settings, its own
 * pg_roles row, pg_database, and pg_stat_activity. Other roles' rows are
 * there, but without pg_read_all_stats most of their columns are NULL,
 * backend_type included: a row with a database and a user is a session
 * whatever its backend_type shows (the server's own processes have neither;
 * another role's parallel worker or database-connected background worker is
 * counted too, a slight overcount for a warning). reserved_connections exists
 * from 16 on.
 */
const SQL = `
WITH sessions AS (
  SELECT usename, datname, application_name FROM pg_stat_activity
  WHERE backend_type = 'client backend' OR (backend_type IS NULL AND datname IS NOT NULL AND usename IS NOT NULL)
)
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int
         + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT count(*)::int FROM sessions) AS in_use,
       (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit,
       (SELECT count(*)::int FROM sessions WHERE usename = current_user) AS role_in_use,
       (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
       (SELECT count(*)::int FROM sessions WHERE datname = current_database()) AS db_in_use,
       current_setting('application_name') AS application_name,
       current_user AS role,
       current_database() AS database,
       (SELECT count(*)::int FROM sessions WHERE usename = current_user AND datname = current_database()
          AND application_name = current_setting('application_name')) AS app_in_use`;

/**
 * PostgreSQL: max_connections less reserved slots, the role's and the
 * database's CONNECTION LIMIT; and this app's share of the connections: the
 * same application_name, role and database, which is what the other
 * instances of one deployment share (only the one query, on the connection
 * the connect opened).
 */
export async function pgBudget(
  pool: Pool,
  behindPooler: boolean,
  /** Runs the reading's query; the package's own pools pass one that marks the checkout as the package's. */
  query: (sql: string) => Promise<unknown[]> = async (sql) => (await pool.query(sql)).rows,
): Promise<BudgetReading> {
  const r = (await query(SQL))[0] as Row;
  const limits: ConnectionLimit[] = [
    r.superuser
      ? { what: "the server's max_connections", limit: r.max_connections, used: r.in_use }
      : { what: `the server's max_connections less ${r.reserved} reserved`, limit: r.max_connections - r.reserved, used: r.in_use },
  ];
  if (r.role_limit !== null && r.role_limit >= 0) limits.push({ what: "this role's CONNECTION LIMIT", limit: r.role_limit, used: r.role_in_use });
  if (r.db_limit !== null && r.db_limit >= 0) limits.push({ what: "this database's CONNECTION LIMIT", limit: r.db_limit, used: r.db_in_use });
  const app = r.application_name
    ? `application_name "${r.application_name}"`
    : `role "${r.role}" on database "${r.database}", without an application_name`;
  return {
    limits,
    poolMax: (pool.options as { max?: number }).max ?? 10,
    poolOpen: pool.totalCount,
    app: { label: app, connections: r.app_in_use },
    behindPooler,
  };
}
