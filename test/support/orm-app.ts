/**
 * The servers behind test/fixtures/orm-app and what the test reads back from
 * them: per library, the app's environment and, on the server side, the
 * connections of ours and of the control (pg_stat_activity by
 * application_name, MariaDB's processlist by user, the MongoDB wire server's
 * sockets by appName) and the rows the routes wrote.
 *
 * Every database sits behind something the test can take down: PostgreSQL and
 * MariaDB behind a TCP proxy each, MongoDB is the wire server itself.
 */
import { MongoClient } from "mongodb";
import { MongoWireServer } from "./mongo-wire/index.js";
import { createMysqlUser, mysqlAdminQuery, mysqlConnectionCount, mysqlUrl, type MysqlTestUser } from "./mysql.js";
import { adminQuery, pgConnectionCount, postgresUrl, uniqueName } from "./postgres.js";
import { proxyInFrontOf, type TcpProxy } from "./tcp-proxy.js";

export type LibraryName = "mongoose" | "drizzle" | "kysely" | "prisma" | "authjs";
export type Role = "ours" | "control";

/** What the server sees of one role: sockets, and the pools (clients) they belong to. */
export interface ServerCount {
  connections: number;
  pools: number;
}

export interface StoredRow {
  text: string;
  done: boolean;
}

export interface Library {
  name: LibraryName;
  /** "pg" | "MariaDB" | "MongoDB (wire server)" */
  database: string;
  count(role: Role): Promise<ServerCount>;
  /** Rows whose text starts with `prefix`, read on the server. */
  stored(prefix: string): Promise<StoredRow[]>;
}

export interface OrmServers {
  env: Record<string, string>;
  libraries: Library[];
  prismaTable: string;
  /** Every database unreachable / reachable again. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

function via(url: string, port: number): string {
  const u = new URL(url);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
}

export async function startOrmServers(): Promise<OrmServers> {
  const app = (label: string) => uniqueName(`ndc_oa_${label}`);
  const names = {
    drizzle: app("drizzle"),
    drizzleControl: app("drizzle_ctl"),
    prisma: app("prisma"),
    prismaControl: app("prisma_ctl"),
    mongoose: app("mongoose"),
    mongooseControl: app("mongoose_ctl"),
    authjs: app("authjs"),
    authjsControl: app("authjs_ctl"),
  };
  const tables = { drizzle: app("notes_d"), prisma: app("notes_p"), kysely: app("notes_k") };
  const dbs = { mongoose: app("m"), mongooseControl: app("mc"), authjs: app("a"), authjsControl: app("ac") };

  const pgProxy: TcpProxy = await proxyInFrontOf(await postgresUrl(), 5432);
  const myProxy: TcpProxy = await proxyInFrontOf(mysqlUrl(), 3306);
  const wire = new MongoWireServer();
  await wire.start();
  const kysely: MysqlTestUser = await createMysqlUser("ndc_oa_k");
  const kyselyControl: MysqlTestUser = await createMysqlUser("ndc_oa_kc");
  for (const t of [tables.drizzle, tables.prisma]) {
    await adminQuery(`CREATE TABLE ${t} (id serial PRIMARY KEY, text text NOT NULL, done boolean NOT NULL DEFAULT false)`);
  }
  await mysqlAdminQuery(`CREATE TABLE ${tables.kysely} (id INT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(200) NOT NULL, done TINYINT NOT NULL DEFAULT 0)`);

  // maxPoolSize=1: a client's sockets are its pooled connection and its monitor. serverSelectionTimeoutMS=3000 for
  // everyone, so that a control waiting on server selection fails in 3 s rather than the driver's 30 s.
  const mongoUri = (db: string, appName: string) => `${wire.uri}/${db}?appName=${appName}&maxPoolSize=1&serverSelectionTimeoutMS=3000`;
  const env: Record<string, string> = {
    PG_URL: via(await postgresUrl(), pgProxy.port),
    DRIZZLE_APP: names.drizzle,
    DRIZZLE_CONTROL_APP: names.drizzleControl,
    DRIZZLE_TABLE: tables.drizzle,
    PRISMA_APP: names.prisma,
    PRISMA_CONTROL_APP: names.prismaControl,
    KYSELY_URL: via(kysely.url, myProxy.port),
    KYSELY_CONTROL_URL: via(kyselyControl.url, myProxy.port),
    KYSELY_TABLE: tables.kysely,
    MONGOOSE_URI: mongoUri(dbs.mongoose, names.mongoose),
    MONGOOSE_CONTROL_URI: mongoUri(dbs.mongooseControl, names.mongooseControl),
    AUTHJS_URI: mongoUri(dbs.authjs, names.authjs),
    AUTHJS_CONTROL_URI: mongoUri(dbs.authjsControl, names.authjsControl),
  };

  const pgCount = (appName: string) => async (): Promise<ServerCount> => {
    const n = await pgConnectionCount(appName);
    return { connections: n, pools: n }; // max: 1 per pool
  };
  const myCount = (user: string) => async (): Promise<ServerCount> => {
    const n = await mysqlConnectionCount(user);
    return { connections: n, pools: n }; // connectionLimit: 1 per pool
  };
  // Each MongoClient keeps one monitoring connection, which runs nothing but hello.
  const mongoCount = (appName: string) => async (): Promise<ServerCount> => {
    const mine = wire.connections().filter((c) => c.appName === appName);
    return { connections: mine.length, pools: mine.filter((c) => c.operations === 0).length };
  };
  const sqlRows = async (sql: string, prefix: string, run: (sql: string, params: unknown[]) => Promise<unknown[]>) =>
    ((await run(sql, [`${prefix}%`])) as Array<{ text: string; done: unknown }>).map((r) => ({ text: r.text, done: Boolean(r.done) }));
  const pgRun = (sql: string, params: unknown[]) => adminQuery(sql, params);
  let checker: MongoClient | undefined;
  const mongo = async () => (checker ??= await new MongoClient(`${wire.uri}/?appName=${app("check")}`).connect());

  const libraries: Library[] = [
    {
      name: "mongoose",
      database: "MongoDB (wire server)",
      count: (role) => mongoCount(role === "ours" ? names.mongoose : names.mongooseControl)(),
      stored: async (prefix) => {
        const client = await mongo();
        const rows: StoredRow[] = [];
        for (const db of [dbs.mongoose, dbs.mongooseControl]) {
          const docs = await client.db(db).collection("notes").find({ text: { $regex: `^${prefix}` } }).toArray();
          rows.push(...docs.map((d) => ({ text: String(d.text), done: d.done === true })));
        }
        return rows;
      },
    },
    {
      name: "drizzle",
      database: "PostgreSQL",
      count: (role) => pgCount(role === "ours" ? names.drizzle : names.drizzleControl)(),
      stored: (prefix) => sqlRows(`SELECT text, done FROM ${tables.drizzle} WHERE text LIKE $1`, prefix, pgRun),
    },
    {
      name: "kysely",
      database: "MariaDB",
      count: (role) => myCount(role === "ours" ? kysely.user : kyselyControl.user)(),
      stored: (prefix) => sqlRows(`SELECT text, done FROM ${tables.kysely} WHERE text LIKE ?`, prefix, mysqlAdminQuery),
    },
    {
      name: "prisma",
      database: "PostgreSQL",
      count: (role) => pgCount(role === "ours" ? names.prisma : names.prismaControl)(),
      stored: (prefix) => sqlRows(`SELECT text, done FROM ${tables.prisma} WHERE text LIKE $1`, prefix, pgRun),
    },
    {
      name: "authjs",
      database: "MongoDB (wire server)",
      count: (role) => mongoCount(role === "ours" ? names.authjs : names.authjsControl)(),
      // A user per write: email "<text>@example.com", renamed "<text>-done" by the update.
      stored: async (prefix) => {
        const client = await mongo();
        const rows: StoredRow[] = [];
        for (const db of [dbs.authjs, dbs.authjsControl]) {
          const users = await client.db(db).collection("users").find({ email: { $regex: `^${prefix}` } }).toArray();
          rows.push(...users.map((u) => {
            const text = String(u.email).replace(/@example\.com$/, "");
            return { text, done: u.name === `${text}-done` };
          }));
        }
        return rows;
      },
    },
  ];

  return {
    env,
    libraries,
    prismaTable: tables.prisma,
    down: async () => void (await Promise.all([wire.stop(), pgProxy.down(), myProxy.down()])),
    up: async () => void (await Promise.all([wire.start(), pgProxy.up(), myProxy.up()])),
    close: async () => {
      await checker?.close().catch(() => {});
      await Promise.all([wire.stop(), pgProxy.down(), myProxy.down()]);
      for (const t of [tables.drizzle, tables.prisma]) await adminQuery(`DROP TABLE IF EXISTS ${t}`).catch(() => {});
      await mysqlAdminQuery(`DROP TABLE IF EXISTS ${tables.kysely}`).catch(() => {});
      await kysely.drop().catch(() => {});
      await kyselyControl.drop().catch(() => {});
    },
  };
}
