import mysql from "mysql2/promise";
import pg from "pg";
import type { Driver } from "./fault-app.js";
import { MongoWireServer } from "./mongo-wire/index.js";
import { createMysqlUser, mysqlConnectionCount } from "./mysql.js";
import { pgConnectionCount, postgresUrl, uniqueName, withUrl } from "./postgres.js";
import { startPrivateMariadb } from "./private-mariadb.js";
import { privatePgCount, startPrivatePostgres } from "./private-postgres.js";
import { proxyInFrontOf, type TcpProxy } from "./tcp-proxy.js";
import { waitFor } from "./wait.js";

/**
 * Databases for the freeze-and-thaw scenario (test/reliability/freeze-thaw.test.ts).
 * Two apps connect to each, under their own identity so the server can count
 * each one's sessions: the package (`ours`) and the hand-written control.
 *
 * How the idle sessions end while the apps are frozen:
 * - `server`: the server ends them itself, with a FIN: a private PostgreSQL
 *   with `idle_session_timeout`, a private MariaDB with `wait_timeout`, the
 *   wire server's kill (it has no idle limit of its own);
 * - `silent`: a TCP proxy forgets them (no FIN; the app's next write gets a
 *   reset), as a NAT or a pooler that dropped them unannounced.
 */
export type FreezeMode = "server" | "silent";

export interface FreezeApp {
  url: string;
  /** application_name (pg), appName (MongoDB), user (MariaDB). */
  app: string;
}

export interface FreezeTarget {
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  driver: Driver;
  ours: FreezeApp;
  control: FreezeApp;
  /** What ends the idle sessions, as said in the figures. */
  fault: string;
  /** Sessions the server sees for an app. */
  serverCount(app: FreezeApp): Promise<number>;
  /** While both apps are frozen: the idle sessions end (waits until the server has none of them left). */
  endIdleSessions(): Promise<void>;
  /** One fresh connection and a trivial query from the test process, on the apps' path, in ms. */
  reconnectMs(): Promise<number>;
  teardown(): Promise<void>;
}

/** Server idle limit, in seconds; the freeze lasts longer. */
export const IDLE_LIMIT_S = 2;

export async function freezeTarget(driver: Driver, mode: FreezeMode): Promise<FreezeTarget> {
  if (driver === "pg") return mode === "server" ? privatePostgresTarget() : silentPostgresTarget();
  if (driver === "mysql2") return mode === "server" ? privateMariadbTarget() : silentMariadbTarget();
  return mongoTarget(mode);
}

async function privatePostgresTarget(): Promise<FreezeTarget> {
  const server = await startPrivatePostgres();
  await pgAdmin(server.url, [`ALTER SYSTEM SET idle_session_timeout = '${IDLE_LIMIT_S}s'`, "SELECT pg_reload_conf()"]);
  const ours = { url: server.url, app: uniqueName("ndc_thaw_pg") };
  const control = { url: server.url, app: uniqueName("ndc_thaw_pg_ctl") };
  const count = (a: FreezeApp) => privatePgCount(server.url, a.app);
  return {
    label: "PostgreSQL", driver: "pg", ours, control,
    fault: `idle_session_timeout = ${IDLE_LIMIT_S} s (private server): the server ends the idle sessions with a FIN`,
    serverCount: count,
    endIdleSessions: () => untilNone([ours, control], count),
    reconnectMs: () => pgReconnect(server.url),
    teardown: () => server.destroy(),
  };
}

async function silentPostgresTarget(): Promise<FreezeTarget> {
  const base = await postgresUrl();
  const proxy = await proxyInFrontOf(base, 5432);
  const url = withUrl(base, { port: proxy.port });
  const ours = { url, app: uniqueName("ndc_thaw_pg") };
  const control = { url, app: uniqueName("ndc_thaw_pg_ctl") };
  return silent(proxy, {
    label: "PostgreSQL", driver: "pg", ours, control,
    serverCount: (a) => pgConnectionCount(a.app),
    reconnectMs: () => pgReconnect(url),
    teardown: () => proxy.down(),
  });
}

async function privateMariadbTarget(): Promise<FreezeTarget> {
  const server = await startPrivateMariadb();
  const admin = await mysql.createConnection({ uri: server.url });
  const users: FreezeApp[] = [];
  try {
    for (const name of [uniqueName("ndc_thaw"), uniqueName("ndc_thaw_ctl")].map((n) => n.slice(0, 32))) {
      await admin.query("CREATE USER ?@'%' IDENTIFIED BY 'pw'", [name]);
      await admin.query("CREATE USER ?@'localhost' IDENTIFIED BY 'pw'", [name]);
      await admin.query("GRANT ALL ON test.* TO ?@'%'", [name]);
      await admin.query("GRANT ALL ON test.* TO ?@'localhost'", [name]);
      users.push({ url: `mysql://${name}:pw@127.0.0.1:${server.port}/test`, app: name });
    }
    // For sessions that start from now on: the apps' and nobody else's.
    await admin.query(`SET GLOBAL wait_timeout = ${IDLE_LIMIT_S}`);
  } finally {
    await admin.end();
  }
  const count = async (a: FreezeApp) => {
    const c = await mysql.createConnection({ uri: server.url });
    try {
      const [rows] = await c.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = ?", [a.app]);
      return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
    } finally {
      await c.end();
    }
  };
  const [ours, control] = users as [FreezeApp, FreezeApp];
  return {
    label: "MariaDB", driver: "mysql2", ours, control,
    fault: `wait_timeout = ${IDLE_LIMIT_S} s (private server): the server ends the idle sessions with a FIN`,
    serverCount: count,
    endIdleSessions: () => untilNone([ours, control], count),
    reconnectMs: () => mysqlReconnect(server.url),
    teardown: () => server.destroy(),
  };
}

async function silentMariadbTarget(): Promise<FreezeTarget> {
  const users = [await createMysqlUser("ndc_thaw"), await createMysqlUser("ndc_thaw_ctl")];
  const proxy = await proxyInFrontOf(users[0]!.url, 3306);
  const viaProxy = (url: string) => {
    const u = new URL(url);
    u.port = String(proxy.port);
    return u.toString();
  };
  const [ours, control] = users.map((u) => ({ url: viaProxy(u.url), app: u.user })) as [FreezeApp, FreezeApp];
  return silent(proxy, {
    label: "MariaDB", driver: "mysql2", ours, control,
    serverCount: (a) => mysqlConnectionCount(a.app),
    reconnectMs: () => mysqlReconnect(ours.url),
    async teardown() {
      await proxy.down();
      for (const u of users) await u.drop();
    },
  });
}

async function mongoTarget(mode: FreezeMode): Promise<FreezeTarget> {
  const server = new MongoWireServer();
  await server.start();
  const proxy = mode === "silent" ? await proxyInFrontOf(`mongodb://127.0.0.1:${server.port}`, 27017) : null;
  const url = `mongodb://127.0.0.1:${proxy ? proxy.port : server.port}/ndc_fault`;
  const ours = { url, app: uniqueName("ndc_thaw_mongo") };
  const control = { url, app: uniqueName("ndc_thaw_mongo_ctl") };
  const count = async (a: FreezeApp) => server.connections().filter((c) => c.appName === a.app).length;
  const common = {
    label: "MongoDB (wire server)" as const, driver: "mongodb" as const, ours, control,
    serverCount: count,
    reconnectMs: () => mongoReconnect(url),
    async teardown() {
      await proxy?.down();
      await server.stop();
    },
  };
  if (proxy) return silent(proxy, common);
  return {
    ...common,
    fault: "the wire server ends every session (pooled and monitoring) with a FIN",
    async endIdleSessions() {
      server.killAllConnections();
      await untilNone([ours, control], count);
    },
  };
}

function silent(proxy: TcpProxy, t: Omit<FreezeTarget, "fault" | "endIdleSessions">): FreezeTarget {
  return {
    ...t,
    fault: "a TCP proxy forgets every open connection: no FIN, the app's next write gets a reset",
    async endIdleSessions() {
      proxy.dropSilently();
      await untilNone([t.ours, t.control], t.serverCount);
    },
  };
}

async function untilNone(apps: FreezeApp[], count: (a: FreezeApp) => Promise<number>): Promise<void> {
  for (const a of apps) {
    const left = await waitFor(() => count(a), (n) => n === 0, 15_000, 100);
    if (left !== 0) throw new Error(`the server still holds ${left} sessions of ${a.app}`);
  }
}

async function pgAdmin(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

async function pgReconnect(url: string): Promise<number> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url, application_name: "ndc_thaw_probe" });
  client.on("error", () => {});
  await client.connect();
  await client.query("SELECT 1");
  const ms = performance.now() - started;
  await client.end();
  return ms;
}

async function mysqlReconnect(url: string): Promise<number> {
  const started = performance.now();
  const c = await mysql.createConnection({ uri: url });
  await c.query("SELECT 1");
  const ms = performance.now() - started;
  await c.end();
  return ms;
}

async function mongoReconnect(url: string): Promise<number> {
  const { MongoClient } = await import("mongodb");
  const started = performance.now();
  const client = new MongoClient(url, { appName: "ndc_thaw_probe", serverSelectionTimeoutMS: 5000 });
  await client.connect();
  await client.db("admin").command({ ping: 1 });
  const ms = performance.now() - started;
  await client.close();
  return ms;
}
