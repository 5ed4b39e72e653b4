import { afterAll, beforeAll, describe } from "vitest";
import { buildPackage, type Build } from "./build.js";
import { closeMysqlAdmin, createMysqlUser, killMysqlConnections, mysqlConnectionCount, type MysqlTestUser } from "./mysql.js";
import type { MongoWireServer } from "./mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "./mongodb-target.js";
import { closeAdmin, pgConnectionCount, postgresUrl, terminatePgBackends, uniqueName, withUrl } from "./postgres.js";
import { proxyInFrontOf, type TcpProxy } from "./tcp-proxy.js";
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

export async function proxiedPostgres(): Promise<ProxiedTarget> {
  const base = await postgresUrl();
  const proxy = await proxyInFrontOf(base, 5432);
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
  const user: MysqlTestUser = await createMysqlUser("ndc_rel");
  const proxy = await proxyInFrontOf(user.url, 3306);
  const u = new URL(user.url);
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
  const { server } = await wireServerTarget();
  const proxy = await proxyInFrontOf(`mongodb://127.0.0.1:${server.port}`, 27017);
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

/**
 * For a scenario file: the package built once (the fault app loads it in a
 * child process), removed at the end together with the admin connections.
 * `build` is set once the file's first hook has run.
 */
export function builtPackageForFile(): { readonly build: Build } {
  const holder = {} as { build: Build };
  beforeAll(async () => {
    holder.build = await buildPackage();
  }, 60_000);
  afterAll(async () => {
    await holder.build?.remove();
    await closeAdmin();
    await closeMysqlAdmin();
  });
  return holder;
}

/**
 * One describe block per proxied database, its target up for the block and
 * torn down after it. The MongoDB block needs the wire server (its session
 * kills and connection count), so it is skipped under MONGODB_URI.
 */
export function describeEachProxiedTarget(title: string, body: (current: () => ProxiedTarget) => void): void {
  const targets = proxiedTargets
    .filter((make) => make !== proxiedMongo || !needsWireServer(`killAllConnections() and connection count (${title})`))
    .map((make) => ({ make, name: make.name.replace("proxied", "") }));
  describe.each(targets)(`${title}: $name`, ({ make }) => {
    let target: ProxiedTarget | undefined;
    beforeAll(async () => {
      target = await make();
    });
    afterAll(async () => {
      await target?.teardown();
    });
    body(() => target!);
  });
}
