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
}

/*
 * Everything a role without special privileges may read: settings, its own
 * pg_roles row, pg_database, and pg_stat_activity (other users' rows are
 * visible without their query text). reserved_connections exists from 16 on.
 */
const SQL = `
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int
         + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use,
       (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit,
       (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = current_user) AS role_in_use,
       (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
       (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database()) AS db_in_use`;

/** PostgreSQL: max_connections less reserved slots, the role's and the database's CONNECTION LIMIT. */
export async function pgBudget(pool: Pool): Promise<BudgetReading> {
  const { rows } = await pool.query<Row>(SQL);
  const r = rows[0]!;
  const limits: ConnectionLimit[] = [
    r.superuser
      ? { what: "the server's max_connections", limit: r.max_connections, used: r.in_use }
      : { what: `the server's max_connections less ${r.reserved} reserved`, limit: r.max_connections - r.reserved, used: r.in_use },
  ];
  if (r.role_limit !== null && r.role_limit >= 0) limits.push({ what: "this role's CONNECTION LIMIT", limit: r.role_limit, used: r.role_in_use });
  if (r.db_limit !== null && r.db_limit >= 0) limits.push({ what: "this database's CONNECTION LIMIT", limit: r.db_limit, used: r.db_in_use });
  return {
    limits,
    poolMax: (pool.options as { max?: number }).max ?? 10,
    poolOpen: pool.totalCount,
  };
}
