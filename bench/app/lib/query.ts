// The one small query every strategy runs, so only the connection handling
// differs between routes.
import type { Db } from "mongodb";
import type { Pool as MysqlPool, Connection as MysqlConnection } from "mysql2/promise";
import type { Client as PgClient, Pool as PgPool } from "pg";

export async function pgQuery(db: PgPool | PgClient): Promise<unknown> {
  const { rows } = await db.query("SELECT 1 AS one");
  return rows[0];
}

export async function mysqlQuery(db: MysqlPool | MysqlConnection): Promise<unknown> {
  const [rows] = await db.query("SELECT 1 AS one");
  return (rows as unknown[])[0];
}

/** The runner seeds `{ _id: 1 }` into bench.items on every wire server it starts. */
export async function mongoQuery(db: Db): Promise<unknown> {
  return db.collection<{ _id: number }>("items").findOne({ _id: 1 });
}
