// MongoDB: without MONGODB_URI, one wire-protocol test server per strategy,
// started in this process, whose own accept counter gives exact connection
// counts. With MONGODB_URI (a real mongod), each strategy has its own
// appName: open connections come from $currentOp, connections opened from the
// server-wide serverStatus counter (an upper bound, like MariaDB's).
import { MongoClient } from "mongodb";
import { MongoWireServer } from "../../test/support/mongo-wire/index.js";
import { STRATEGIES, urlVariable, type StrategyId } from "../strategies.js";
import { sleep } from "../lib/stats.js";
import { TargetUnavailable, type DriverTarget, type StrategyCounter } from "./target.js";

const DB = "bench";
/** The driver's server monitor and its RTT pinger: two sockets besides the pool. */
const MONITORING_CONNECTIONS = 2;

async function seed(url: string): Promise<string> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await client.db(DB).collection<{ _id: number }>("items").replaceOne({ _id: 1 }, { _id: 1, text: "bench" }, { upsert: true });
    return String((await client.db("admin").command({ buildInfo: 1 })).version);
  } finally {
    await client.close();
  }
}

export async function mongoTarget(): Promise<DriverTarget> {
  return process.env.MONGODB_URI ? realMongo(process.env.MONGODB_URI) : wireServers();
}

async function wireServers(): Promise<DriverTarget> {
  const servers = new Map<StrategyId, MongoWireServer>();
  const env: Record<string, string> = {};
  let version = "";
  for (const { id } of STRATEGIES) {
    const server = new MongoWireServer();
    const uri = await server.start();
    servers.set(id, server);
    const url = `${uri}/${DB}?appName=ndc_bench_${id}`;
    version = await seed(url);
    env[urlVariable("mongodb", id)] = url;
  }
  return {
    driver: "mongodb",
    network: "local",
    server: `MongoDB wire test server (test/support/mongo-wire, reports ${version}), in the bench process`,
    openedMethod: "the wire server's own accepted-connection count, one server per strategy",
    openedExact: true,
    shared: false,
    extraConnections: MONITORING_CONNECTIONS,
    env,
    identity: (strategy) => `ndc_bench_${strategy}`,
    counter(strategy): StrategyCounter {
      const server = servers.get(strategy)!;
      return { opened: async () => server.totalAccepted, current: async () => server.connectionCount };
    },
    settle: () => sleep(200),
    async close() {
      for (const server of servers.values()) await server.stop().catch(() => {});
    },
  };
}

async function realMongo(uri: string): Promise<DriverTarget> {
  const admin = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 2, appName: "ndc_bench_admin" });
  let version: string;
  try {
    await admin.connect();
    version = String((await admin.db("admin").command({ buildInfo: 1 })).version);
  } catch (err) {
    await admin.close().catch(() => {});
    throw new TargetUnavailable(`MongoDB at MONGODB_URI not reachable (${(err as Error).name})`);
  }
  const env: Record<string, string> = {};
  for (const { id } of STRATEGIES) {
    const url = new URL(uri);
    url.pathname = `/${DB}`;
    url.searchParams.set("appName", `ndc_bench_${id}_${process.pid}`);
    env[urlVariable("mongodb", id)] = url.toString();
  }
  await seed(env[urlVariable("mongodb", "a")]!);
  const totalCreated = async () => Number((await admin.db("admin").command({ serverStatus: 1 })).connections?.totalCreated ?? 0);
  return {
    driver: "mongodb",
    network: "local",
    server: `MongoDB ${version}`,
    openedMethod: "server-wide serverStatus.connections.totalCreated, difference over the strategy's windows (upper bound)",
    openedExact: false,
    shared: true,
    extraConnections: MONITORING_CONNECTIONS,
    env,
    identity: (strategy) => `ndc_bench_${strategy}_${process.pid}`,
    counter(strategy): StrategyCounter {
      const appName = `ndc_bench_${strategy}_${process.pid}`;
      return {
        opened: totalCreated,
        current: async () => {
          const rows = await admin
            .db("admin")
            .aggregate([{ $currentOp: { allUsers: true, idleConnections: true } }, { $match: { appName } }, { $count: "n" }])
            .toArray();
          return Number(rows[0]?.n ?? 0);
        },
      };
    },
    settle: () => sleep(300),
    close: () => admin.close(),
  };
}
