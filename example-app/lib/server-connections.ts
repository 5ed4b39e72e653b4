import type { Db } from "mongodb";
import type { Pool as MysqlPool, RowDataPacket } from "mysql2/promise";
import type { Pool as PgPool } from "pg";
import type { Driver } from "./driver";

/**
 * The database server's own count of this app's connections, for the status
 * page: PostgreSQL by application_name, MySQL by user (other clients with the
 * same user are counted too), MongoDB from serverStatus (every client of the
 * server). null when the server will not say.
 */
export async function serverConnectionCount(driver: Driver, db: unknown): Promise<{ count: number | null; scope: string }> {
  try {
    switch (driver) {
      case "pg": {
        const { rows } = await (db as PgPool).query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = current_setting('application_name')",
        );
        return { count: rows[0]?.n ?? null, scope: "pg_stat_activity, this application_name" };
      }
      case "mysql2": {
        const [rows] = await (db as MysqlPool).query<RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
        );
        return { count: Number(rows[0]?.n ?? 0), scope: "processlist, this user" };
      }
      case "mongodb": {
        const status = await (db as Db).admin().command({ serverStatus: 1 });
        const current = (status as { connections?: { current?: number } }).connections?.current;
        return { count: typeof current === "number" ? current : null, scope: "serverStatus, all clients" };
      }
    }
  } catch {
    return { count: null, scope: "not available" };
  }
}
