import { createMysqlUser, mysqlConnectionCount, type MysqlTestUser } from "./mysql.js";
import { MongoWireServer } from "./mongo-wire/index.js";
import { pgConnectionCount, postgresUrl, uniqueName, withUrl } from "./postgres.js";
import { TcpProxy } from "./tcp-proxy.js";
import type { Driver } from "./fault-app.js";

/**
 * One database per driver behind a TcpProxy, for the reliability scenarios
 * whose fault is the network (refused, cut, slow, blackholed) or the server
 * ending sessions: the shared PostgreSQL and MariaDB (each test with its own
 * application_name / user, so counts are ours alone), and a fresh MongoDB
 * wire server. `url` goes through the proxy.
 */
export interface ProxiedTarget {
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  driver: Driver;
  /** application_name (pg), appName (mongodb); the user name for MariaDB. */
  app: string;
  proxy: TcpProxy;
  url: string;
  /** Connections the server itself sees from this target's app. */
  serverCount(): Promise<number>;
  /** The server ends every session of this app: pg_terminate_backend, KILL, killAllConnections. */
  killSessions(): Promise<number>;
  mongo: MongoWireServer | null;
  teardown(): Promise<void>;
}

async function startedProxy(host: string, port: number): Promise<TcpProxy> {
  const proxy = new TcpProxy(host, port);
  await proxy.up();
  return proxy;
}

export async function proxiedPostgres(): Promise<ProxiedTarget> {
  const { terminatePgBackends } = await import("./postgres.js");
  const base = await postgresUrl();
  const u = new URL(base);
  const proxy = await startedProxy(u.hostname, Number(u.port || 5432));
  const app = uniqueName("ndc_rel_pg");
  return {
    label: "PostgreSQL", driver: "pg", app, proxy, mongo: null,
    url: withUrl(base, { port: proxy.port }),
    serverCount: () => pgConnectionCount(app),
    killSessions: () => terminatePgBackends(app),
    teardown: () => proxy.down(),
  };
}

export async function proxiedMariadb(): Promise<ProxiedTarget> {
  const { killMysqlConnections } = await import("./mysql.js");
  const user: MysqlTestUser = await createMysqlUser("ndc_rel");
  const u = new URL(user.url);
  const proxy = await startedProxy(u.hostname, Number(u.port || 3306));
  u.port = String(proxy.port);
  return {
    label: "MariaDB", driver: "mysql2", app: user.user, proxy, mongo: null,
    url: u.toString(),
    serverCount: () => mysqlConnectionCount(user.user),
    killSessions: () => killMysqlConnections(user.user),
    async teardown() {
      await proxy.down();
      await user.drop();
    },
  };
}

export async function proxiedMongo(): Promise<ProxiedTarget> {
  const server = new MongoWireServer();
  await server.start();
  const proxy = await startedProxy("127.0.0.1", server.port);
  return {
    label: "MongoDB (wire server)", driver: "mongodb", app: uniqueName("ndc_rel_mongo"), proxy, mongo: server,
    url: `mongodb://127.0.0.1:${proxy.port}/ndc_fault`,
    serverCount: async () => server.connectionCount,
    killSessions: async () => server.killAllConnections(),
    async teardown() {
      await proxy.down();
      await server.stop();
    },
  };
}

export const proxiedTargets = [proxiedPostgres, proxiedMariadb, proxiedMongo];
