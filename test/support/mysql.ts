import mysql from "mysql2/promise";

/**
 * Where the MySQL tests connect: MYSQL_URL if set, else MariaDB on
 * 127.0.0.1:3306 as root. Each test makes its own user, so the server's
 * processlist can be filtered to that test's connections.
 */
export function mysqlUrl(): string {
  return process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
}

let admin: mysql.Pool | undefined;
function adminPool(): mysql.Pool {
  return (admin ??= mysql.createPool({ uri: mysqlUrl(), connectionLimit: 2 }));
}

export interface MysqlTestUser {
  user: string;
  password: string;
  /** mysql://user:password@host:port/db for this user. */
  url: string;
  drop(): Promise<void>;
}

export async function createMysqlUser(prefix: string, password = `pw_${Math.random().toString(36).slice(2, 10)}`): Promise<MysqlTestUser> {
  const user = `${prefix}_${Math.random().toString(36).slice(2, 8)}`.slice(0, 32);
  const base = new URL(mysqlUrl());
  const database = base.pathname.slice(1) || "test";
  const pool = adminPool();
  await pool.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, password]);
  await pool.query("CREATE USER ?@'localhost' IDENTIFIED BY ?", [user, password]);
  await pool.query(`GRANT ALL ON \`${database}\`.* TO ?@'%'`, [user]);
  await pool.query(`GRANT ALL ON \`${database}\`.* TO ?@'localhost'`, [user]);
  const url = new URL(mysqlUrl());
  url.username = user;
  url.password = encodeURIComponent(password);
  return {
    user,
    password,
    url: url.toString(),
    drop: async () => {
      await killMysqlConnections(user);
      await pool.query("DROP USER IF EXISTS ?@'%'", [user]);
      await pool.query("DROP USER IF EXISTS ?@'localhost'", [user]);
    },
  };
}

/** Connections the server sees for a user (never asks the code under test). */
export async function mysqlConnectionCount(user: string): Promise<number> {
  const [rows] = await adminPool().query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = ?", [user]);
  return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
}

export async function killMysqlConnections(user: string): Promise<number> {
  const [rows] = await adminPool().query("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user]);
  const ids = (rows as Array<{ id: number }>).map((r) => r.id);
  for (const id of ids) await adminPool().query(`KILL ${Number(id)}`).catch(() => {});
  return ids.length;
}

export async function mysqlAdminQuery(sql: string, params: unknown[] = []): Promise<unknown[]> {
  const [rows] = await adminPool().query(sql, params);
  return rows as unknown[];
}

export async function closeMysqlAdmin(): Promise<void> {
  await admin?.end();
  admin = undefined;
}
