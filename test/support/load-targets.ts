import type { Driver } from "./fault-app.js";
import { MongoWireServer } from "./mongo-wire/index.js";
import { createMysqlUser, mysqlAdminQuery, mysqlConnectionCount, type MysqlTestUser } from "./mysql.js";
import { adminQuery, pgConnectionCount, postgresUrl } from "./postgres.js";

/**
 * The shared servers (PostgreSQL, MariaDB) and a fresh MongoDB wire server,
 * for scenarios that load a healthy database. Each app gets its own endpoint,
 * so the server can count that app's connections alone: its application_name
 * (pg), its own account (MariaDB), its appName (wire server).
 */
export interface LoadTarget {
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  driver: Driver;
  endpoint(app: string): Promise<Endpoint>;
  teardown(): Promise<void>;
}

export interface Endpoint {
  url: string;
  /** The app's connections as the server counts them. */
  serverCount(): Promise<number>;
  /** The server's ids of the app's open connections (backend pid, thread id, connection id). */
  serverIds(): Promise<string[]>;
  /** Connections of the driver's own besides the pool (the MongoDB driver's monitor), included in serverCount. */
  monitors: number;
}

export async function loadTarget(driver: Driver): Promise<LoadTarget> {
  if (driver === "pg") {
    const url = await postgresUrl();
    return {
      label: "PostgreSQL", driver,
      endpoint: async (app) => ({
        url,
        serverCount: () => pgConnectionCount(app),
        serverIds: async () => (await adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app])).map((r) => String(r.pid)),
        monitors: 0,
      }),
      teardown: async () => {},
    };
  }
  if (driver === "mysql2") {
    const users: MysqlTestUser[] = [];
    return {
      label: "MariaDB", driver,
      endpoint: async () => {
        const user = await createMysqlUser("ndc_load");
        users.push(user);
        return {
          url: user.url,
          serverCount: () => mysqlConnectionCount(user.user),
          serverIds: async () =>
            ((await mysqlAdminQuery("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user.user])) as Array<{ id: number }>).map((r) => String(r.id)),
          monitors: 0,
        };
      },
      teardown: async () => {
        for (const user of users) await user.drop();
      },
    };
  }
  const server = new MongoWireServer();
  await server.start();
  return {
    label: "MongoDB (wire server)", driver,
    endpoint: async (app) => ({
      url: `mongodb://127.0.0.1:${server.port}/ndc_load`,
      serverCount: async () => server.connections().filter((c) => c.appName === app).length,
      serverIds: async () => server.connections().filter((c) => c.appName === app).map((c) => String(c.id)),
      // Polling monitoring (the wire server sends no topologyVersion): one monitor socket, no RTT pinger.
      monitors: 1,
    }),
    teardown: () => server.stop(),
  };
}

/** Samples `read` every `everyMs` until stopped; returns the highest value seen. */
export function samplePeak(read: () => Promise<number>, everyMs = 100): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await read().catch(() => 0));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
