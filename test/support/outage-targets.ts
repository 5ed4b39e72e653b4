/**
 * One real server per driver behind a TcpProxy, so a test can take the
 * database away (blackhole: accepts and never answers; down: refuses) and
 * count, on the proxy, every connection the code under test opened.
 *
 * pg and mysql2 go to the real local servers; mongodb goes to a fresh
 * MongoWireServer (which can also be stopped and started on its own port).
 */
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pgDriver from "pg";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import type { MongoWireServer } from "./mongo-wire/index.js";
import { wireServerTarget } from "./mongodb-target.js";
import { createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./mysql.js";
import { pgConnectionCount, postgresUrl, uniqueName, withUrl } from "./postgres.js";
import { TcpProxy } from "./tcp-proxy.js";

/** A bare driver connection made the way tutorials do it, without this package. */
export interface NaiveClient {
  query(): Promise<unknown>;
  close(): Promise<void>;
}

export interface OutageTarget {
  label: "pg" | "mysql2" | "mongodb";
  proxy: TcpProxy;
  /** Our adapter, pointed at the proxy. `connectTimeoutMs` bounds one driver connect attempt. */
  adapter(options?: { max?: number }): ReturnType<typeof pg> | ReturnType<typeof mysql2> | ReturnType<typeof mongodb>;
  /** A trivial round trip on `req.db`. */
  query(db: any): Promise<unknown>;
  /** The driver's own connect, through the proxy, as the usual examples write it. */
  naiveConnect(): Promise<NaiveClient>;
  /** Connections the server itself sees for this target (never asks the code under test). */
  serverCount(): Promise<number>;
  /** Takes the real server away without touching it: proxy down, or wire server stopped. */
  outage(): Promise<void>;
  recover(): Promise<void>;
  teardown(): Promise<void>;
}

/** How long one blackholed connect attempt takes before the driver gives up. */
export const CONNECT_TIMEOUT_MS = 500;

export async function pgTarget(): Promise<OutageTarget> {
  const base = await postgresUrl();
  const u = new URL(base);
  const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
  await proxy.up();
  const app = uniqueName("ndc_outage_pg");
  const url = withUrl(base, { port: proxy.port });
  return {
    label: "pg",
    proxy,
    adapter: (o) => pg({ connectionString: url, application_name: app, max: o?.max ?? 3, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }),
    query: (db) => db.query("SELECT 1 AS one"),
    async naiveConnect() {
      const pool = new pgDriver.Pool({ connectionString: url, application_name: app, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      pool.on("error", () => {});
      try {
        await pool.query("SELECT 1");
      } catch (err) {
        await pool.end().catch(() => {});
        throw err;
      }
      return { query: () => pool.query("SELECT 1"), close: () => pool.end() };
    },
    serverCount: () => pgConnectionCount(app),
    outage: () => proxy.down(),
    recover: async () => void (await proxy.up()),
    teardown: () => proxy.down(),
  };
}

export async function mysqlTarget(): Promise<OutageTarget> {
  const user: MysqlTestUser = await createMysqlUser("ndc_outage");
  const u = new URL(user.url);
  const proxy = new TcpProxy(u.hostname, Number(u.port || 3306));
  await proxy.up();
  u.port = String(proxy.port);
  const uri = u.toString();
  return {
    label: "mysql2",
    proxy,
    adapter: (o) => mysql2({ uri, connectionLimit: o?.max ?? 3, connectTimeout: CONNECT_TIMEOUT_MS }),
    query: (db) => db.query("SELECT 1 AS one"),
    async naiveConnect() {
      const pool = mysql.createPool({ uri, connectionLimit: 3, connectTimeout: CONNECT_TIMEOUT_MS });
      try {
        await pool.query("SELECT 1");
      } catch (err) {
        await pool.end().catch(() => {});
        throw err;
      }
      return { query: () => pool.query("SELECT 1"), close: () => pool.end() };
    },
    serverCount: () => mysqlConnectionCount(user.user),
    outage: () => proxy.down(),
    recover: async () => void (await proxy.up()),
    async teardown() {
      await proxy.down();
      await user.drop();
    },
  };
}

export async function mongoTarget(): Promise<OutageTarget & { server: MongoWireServer }> {
  // Stopped and started by outage(): only the wire server can be (callers skip it under MONGODB_URI).
  const { server } = await wireServerTarget();
  const proxy = new TcpProxy("127.0.0.1", server.port);
  await proxy.up();
  const url = `mongodb://127.0.0.1:${proxy.port}/ndc_outage`;
  // A connect timeout longer than server selection: one blackholed attempt is
  // exactly one socket (the monitor's), which selection gives up on at 800 ms.
  const clientOptions = { serverSelectionTimeoutMS: 800, connectTimeoutMS: 5000, heartbeatFrequencyMS: 500 };
  return {
    label: "mongodb",
    proxy,
    server,
    adapter: (o) => mongodb({ url, ...clientOptions, maxPoolSize: o?.max ?? 3 }),
    query: (db) => db.command({ ping: 1 }),
    async naiveConnect() {
      const client = new MongoClient(url, clientOptions);
      try {
        await client.connect();
        await client.db("ndc_outage").command({ ping: 1 });
      } catch (err) {
        await client.close().catch(() => {});
        throw err;
      }
      return { query: () => client.db("ndc_outage").command({ ping: 1 }), close: () => client.close() };
    },
    serverCount: async () => server.connectionCount,
    // The wire server itself goes away (its own stop/start on the same port).
    outage: () => server.stop(),
    recover: async () => void (await server.start()),
    async teardown() {
      await proxy.down();
      await server.stop();
    },
  };
}
