import type { Connection, ConnectOptions, Mongoose } from "mongoose";
import type { MongoClient, MongoClientOptions } from "mongodb";
import { DatabaseConfigError } from "../errors.js";
import { secretsOfUrl } from "../redact.js";
import type { Adapter, ConnectContext } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { loadDriver } from "./load-driver.js";
import { withTimeoutDefaults } from "./mongodb.js";
import { PoolCounters, watchClient } from "./mongodb-monitor.js";
import { retireIdleOnThaw } from "./mongodb-thaw.js";
import { classifyMongoose } from "./mongoose-classify.js";
import { verifyOrClose } from "./verify-or-close.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Connection, ConnectOptions, Mongoose } from "mongoose";

/** mongoose's own `ConnectOptions` (the driver's options, `dbName`, `bufferCommands`, `autoIndex`…) plus `uri`. */
export interface MongooseOptions extends ConnectOptions {
  /** mongodb:// or mongodb+srv:// connection string. */
  uri: string | undefined;
}

export interface MongooseSetup {
  /**
   * The Mongoose instance to connect with. Default: the `mongoose` package,
   * loaded at the first connect. Pass yours when the app uses its own
   * `new mongoose.Mongoose()` (its plugins and settings then apply).
   */
  mongoose?: Mongoose;
}

/**
 * mongoose on one pool per process, opened with `createConnection()` (never
 * the global `mongoose.connect()` singleton).
 *
 * `req.db` is a mongoose `Connection` of this definition's own: define models
 * on it (`db.model("User", userSchema)`). Each Next.js bundle and each hot
 * reload gets its own `Connection` over the same pool (mongoose's `useDb()`),
 * so a schema evaluated once per bundle, or edited in dev, never meets
 * `OverwriteModelError`. `req.dbClient` is the `MongoClient` underneath
 * (sessions, other databases, Auth.js's MongoDB adapter).
 *
 * Differences from a bare `createConnection(uri)`:
 * - `bufferCommands: false` unless you set it: during an outage a request
 *   gets 503 at once instead of waiting on mongoose's buffer (10 s) for a
 *   500;
 * - the driver's server monitoring reaches the package: a lost server makes
 *   the next requests fail fast with 503, and the first after recovery succeed;
 * - the driver's timeouts (30 s, and no bound on the pool's queue) are bounded
 *   by the package's `connectTimeoutMs` and `acquireTimeoutMs`;
 * - no database name (no `dbName`, none in the URI path) is a config error,
 *   instead of silently using `test`.
 */
export function mongoose(options: MongooseOptions, setup?: MongooseSetup): Adapter<MongoClient, Connection> {
  const { uri, ...connectOptions } = (options ?? {}) as MongooseOptions;
  let instance: Mongoose | undefined;
  return defineAdapter<MongoClient, Connection>({
    kind: "mongoose",
    config: options,
    secrets: [
      ...secretsOfUrl(uri),
      connectOptions.pass,
      connectOptions.auth?.password,
      connectOptions.tlsCertificateKeyFilePassword,
    ],
    validate: (name) => {
      validateMongooseConfig(name, options, setup);
      databaseName(name, uri as string, connectOptions.dbName);
    },
    target: () => mongooseTarget(uri, connectOptions.dbName),
    connect: async (ctx) => {
      const started = Date.now();
      instance = setup?.mongoose ?? (await loadMongoose(ctx.name));
      // Loading mongoose (and its driver) counts against the package's connect deadline, as for mongodb().
      const root = await openConnection(ctx, instance, uri as string, connectOptions, Date.now() - started);
      return root.getClient() as unknown as MongoClient;
    },
    // Its own Connection per definition (bundle, hot reload) over the one pool: models never clash.
    db: (client) => {
      const root = rootOf(client);
      return root.useDb(root.name, { useCache: false });
    },
    close: (client) => {
      closedClients.add(client);
      return rootOf(client).close();
    },
    ping: (client) => client.db("admin").command({ ping: 1 }),
    stats: (client) => poolCounters.get(client)?.snapshot() ?? {},
    classify: (err, client) => classifyMongoose(err, instance ? { base: instance } : undefined, client !== undefined && closedClients.has(client)),
  });
}

async function loadMongoose(name: string): Promise<Mongoose> {
  const mod = (await loadDriver(name, "mongoose", () => import("mongoose"))) as unknown as { default?: Mongoose } & Mongoose;
  return typeof mod.createConnection === "function" ? mod : mod.default!;
}

async function openConnection(ctx: ConnectContext, m: Mongoose, uri: string, options: ConnectOptions, spentMs: number): Promise<Connection> {
  const withDefaults = {
    // A request during an outage gets 503 at once, not a buffered wait for a 500.
    bufferCommands: false,
    ...withTimeoutDefaults(uri, options as MongoClientOptions, ctx, spentMs),
  } as ConnectOptions;
  const root = m.createConnection(uri, withDefaults);
  // mongoose emits 'error' on a Connection only when someone listens; listen, so that it is logged.
  root.on("error", (err: Error) => ctx.log.error(`mongoose connection error: ${err.message}`));
  // createConnection() makes the driver's client at once, before connecting: its events are seen from the start.
  const client = root.getClient() as unknown as MongoClient;
  (client as unknown as Record<symbol, Connection>)[ROOT] = root;
  // The pool's real maximum: a serverless platform's default when the options set none.
  poolCounters.set(client, new PoolCounters(client, (withDefaults as MongoClientOptions).maxPoolSize ?? 100));
  watchClient(client, ctx);
  ctx.signal.addEventListener("abort", () => void root.close(true).catch(() => {}), { once: true });
  const verified = await verifyOrClose(
    root,
    async (c) => {
      await c.asPromise();
      await c.db!.command({ ping: 1 });
    },
    (c) => c.close(true),
  );
  // Idle connections that may have died during a freeze are retired after a pause, as for mongodb().
  client.once("topologyClosed", retireIdleOnThaw(client, ctx));
  return verified;
}

const poolCounters = new WeakMap<MongoClient, PoolCounters>();
/** Clients this adapter closed: the operations the close cut short answer 503 "closed", not the app's 500. */
const closedClients = new WeakSet<MongoClient>();

/**
 * The Connection that opened a client, kept on the client under a global
 * symbol: a definition in another Next.js bundle (another copy of this
 * module) makes its own Connection from the same client.
 */
const ROOT = Symbol.for("next-db-connect.mongoose.root");

function rootOf(client: MongoClient): Connection {
  return (client as unknown as Record<symbol, Connection>)[ROOT]!;
}

function validateMongooseConfig(name: string, options: unknown, setup: MongooseSetup | undefined): void {
  const config = configObject(name, "mongoose", options);
  const check = new ConfigCheck(name, "mongoose", config);
  check.url("uri", ["mongodb", "mongodb+srv"], true);
  check.string("dbName");
  check.string("user");
  check.boolean("bufferCommands");
  check.boolean("autoIndex");
  check.boolean("autoCreate");
  check.integer("maxPoolSize", 1, MAX_POOL_SIZE);
  check.integer("minPoolSize", 0, MAX_POOL_SIZE);
  for (const key of ["serverSelectionTimeoutMS", "connectTimeoutMS", "socketTimeoutMS", "maxIdleTimeMS", "waitQueueTimeoutMS", "bufferTimeoutMS"]) {
    check.integer(key, 0, 2_147_483_647);
  }
  const given = setup?.mongoose as { createConnection?: unknown } | undefined;
  if (setup !== undefined && given !== undefined && typeof given?.createConnection !== "function") {
    throw new DatabaseConfigError(name, "mongoose", `mongoose(): the second argument's "mongoose" must be a Mongoose instance (import mongoose from "mongoose").`);
  }
}

/** `dbName`, else the URI path; a missing name is a config error, not a silent "test". */
function databaseName(name: string, uri: string, dbName: string | undefined): string {
  if (dbName) return dbName;
  const path = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(uri)?.[1];
  if (!path) {
    throw new DatabaseConfigError(
      name,
      "dbName",
      `mongoose: no database name. Pass dbName, or put the database in the URI path (mongodb://host/mydb); mongoose would silently use "test".`,
    );
  }
  return path;
}

/** host(s)/database, without credentials. */
function mongooseTarget(uri: string | undefined, dbName: string | undefined): string {
  const rest = typeof uri === "string" ? uri.replace(/^mongodb(\+srv)?:\/\//i, "") : "";
  const hosts = rest.split(/[/?#]/, 1)[0]!.replace(/^.*@/, "");
  const path = /^[^/?#]*\/([^?#]*)/.exec(rest)?.[1];
  return `${hosts}/${dbName ?? path ?? ""}`;
}
