import type { Pool } from "mysql2/promise";
import type { BudgetReading, ConnectionLimit } from "../connection-budget.js";

/**
 * MySQL/MariaDB: the server's max_connections (Threads_connected against it),
 * and the per-user limit: the account's own MAX_USER_CONNECTIONS (from SHOW
 * GRANTS, which any account may run for itself; MariaDB prints it there) or
 * else the global max_user_connections, against this user's threads. This
 * account's threads are also this app's share of the server's connections:
 * the instances of one deployment connect as one account.
 */
export async function mysqlBudget(pool: Pool, poolMax: number, poolOpen: number): Promise<BudgetReading> {
  const [vars] = await pool.query("SELECT @@max_connections AS max_connections, @@max_user_connections AS max_user_connections, SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user");
  const [status] = await pool.query("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
  // Without the PROCESS privilege the processlist shows exactly this user's threads.
  const [mine] = await pool.query(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
  );
  const [grants] = await pool.query("SHOW GRANTS");
  const v = (vars as Array<{ max_connections: number | string; max_user_connections: number | string; user: string }>)[0]!;
  const threads = Number((status as Array<{ Value: string }>)[0]?.Value ?? 0);
  const userThreads = Number((mine as Array<{ n: number | string }>)[0]?.n ?? 0);
  const limits: ConnectionLimit[] = [{ what: "the server's max_connections", limit: Number(v.max_connections), used: threads }];
  const account = accountLimit(grants as Array<Record<string, string>>);
  const userLimit = account > 0 ? account : Number(v.max_user_connections);
  if (userLimit > 0) {
    limits.push({
      what: account > 0 ? "this account's MAX_USER_CONNECTIONS" : "the server's max_user_connections",
      limit: userLimit,
      used: userThreads,
    });
  }
  return { limits, poolMax, poolOpen, app: { label: `account "${v.user}"`, connections: userThreads } };
}

/** The grant text holds a password hash: only the number is taken from it. */
function accountLimit(rows: Array<Record<string, string>>): number {
  for (const row of rows) {
    for (const text of Object.values(row)) {
      const m = /MAX_USER_CONNECTIONS\s+(\d+)/i.exec(String(text));
      if (m) return Number(m[1]);
    }
  }
  return 0;
}
