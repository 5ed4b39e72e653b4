import type { Db, MongoClient, MongoClientOptions } from "mongodb";
import { DatabaseConfigError } from "../errors.js";
import { announceDefaults, serverlessDefaults } from "../platform/pool-defaults.js";
import { createRedactor, secretsOfUrl, type Redactor } from "../redact.js";
import type { Adapter, ConnectContext } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { loadDriver, pick } from "./load-driver.js";
import { classifyMongo } from "./mongodb-classify.js";
import { PoolCounters, watchClient } from "./mongodb-monitor.js";
import { askOutsidePool } from "./outside-pool.js";
import { heartbeatSettled, retireIdleOnThaw } from "./mongodb-thaw.js";
import { verifyOrClose } from "./verify-or-close.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Db, MongoClient, MongoClientOptions } from "mongodb";

export interface MongodbOptions extends MongoClientOptions {
  /** mongodb:// or mongodb+srv:// connection string. */
  url: string | undefined;
  /** Database for `db`; defaults to the one in the URL path. */
  dbName?: string | undefined;
}

/**
 * The official MongoDB driver. `req.dbClient` is the `MongoClient`, `req.db`
 * the `Db` named by `dbName` or the URL path.
 */
export function mongodb(options: MongodbOptions): Adapter<MongoClient, Db> {
  const { url, dbName, ...clientOptions } = (options ?? {}) as MongodbOptions;
  const secrets = [
    ...secretsOfUrl(url),
    clientOptions.auth?.password,
    clientOptions.tlsCertificateKeyFilePassword,
  ];
  return defineAdapter<MongoClient, Db>({
    kind: "mongodb",
    config: options,
    secrets,
    validate: (name) => {
      validateMongoConfig(name, options);
      databaseName(name, url as string, dbName);
    },
    target: () => mongoTarget(url, dbName),
    connect: (ctx) =>
      connectClient(ctx, url as string, dbName, clientOptions, createRedactor(secrets.filter((s): s is string => typeof s === "string" && s.length > 0))),
    db: (client) => client.db(databaseName("", url as string, dbName)),
    close: (client) => {
      closedClients.add(client);
      return client.close();
    },
    // After a thaw, first the outcome of a heartbeat the freeze caught (mongodb-thaw.ts).
    ping: async (client) => {
      await heartbeatSettled(client);
      return client.db("admin").command({ ping: 1 });
    },
    reachable: (client, timeoutMs) => reachable(client, url as string, clientOptions, timeoutMs),
    stats: (client) => poolCounters.get(client)?.snapshot() ?? {},
    classify: (err, client) => classifyMongo(err, client !== undefined && closedClients.has(client)),
  });
}

async function connectClient(
  ctx: ConnectContext,
  url: string,
  dbName: string | undefined,
  options: MongoClientOptions,
  redact: Redactor,
): Promise<MongoClient> {
  const started = Date.now();
  const mod = await loadDriver(ctx.name, "mongodb", () => import("mongodb"));
  const MongoClientClass = pick<typeof MongoClient>(mod, "MongoClient");
  let client: MongoClient;
  const effective = withTimeoutDefaults(url, options, ctx, Date.now() - started);
  try {
    client = new MongoClientClass(url, effective);
  } catch (err) {
    throw asDriverConfigError(ctx.name, err, redact);
  }
  poolCounters.set(client, new PoolCounters(client, effective.maxPoolSize ?? 100));
  watchClient(client, ctx);
  // Given up (connectTimeoutMs, close()): close the client, sockets still connecting included.
  ctx.signal.addEventListener("abort", () => void client.close().catch(() => {}), { once: true });
  await verifyOrClose(
    client,
    async (c) => {
      await c.connect().catch((err: unknown) => {
        throw asPasswordPrepError(ctx.name, err) ?? err;
      });
      await c.db(databaseName(ctx.name, url, dbName)).command({ ping: 1 });
    },
    (c) => c.close(),
  );
  client.once("topologyClosed", retireIdleOnThaw(client, ctx));
  return client;
}

/**
 * `ping` on a client of its own, with one pooled connection and deadlines of
 * `timeoutMs`, outside the app client's wait queue (see `Adapter.reachable`).
 * The class is the app client's own, so no second copy of the driver loads.
 */
function reachable(client: MongoClient, url: string, options: MongoClientOptions, timeoutMs: number): Promise<void> {
  const MongoClientClass = client.constructor as typeof MongoClient;
  return askOutsidePool(
    () => {
      const side = new MongoClientClass(url, {
        ...options,
        maxPoolSize: 1,
        minPoolSize: 0,
        serverSelectionTimeoutMS: timeoutMs,
        connectTimeoutMS: timeoutMs,
        socketTimeoutMS: timeoutMs,
      });
      side.on("error", () => {});
      return side;
    },
    (side) => side.db("admin").command({ ping: 1 }),
    (side) => void side.close().catch(() => {}),
    timeoutMs,
  );
}

/**
 * SCRAM-SHA-256 runs the password through SASLprep (RFC 4013) in the driver,
 * which refuses some characters (unassigned code points such as most emoji,
 * prohibited ones, mixed bidirectional text) with a plain Error before
 * anything is sent. No retry can succeed: it is the configured password, not
 * an outage. The message quotes the rule, never the password.
 */
function asPasswordPrepError(name: string, err: unknown): DatabaseConfigError | null {
  if (!(err instanceof Error) || err.name.startsWith("Mongo") || !/rfc(4013|3454)/.test(err.message)) return null;
  return new DatabaseConfigError(
    name,
    "credentials",
    `mongodb: the password cannot be used for SCRAM-SHA-256 authentication: the driver's SASLprep rejects it (${err.message})`,
  );
}

/**
 * The driver parses the URL and options synchronously in its constructor; what
 * it rejects there (an unknown option, an invalid read preference or auth
 * mechanism, a port on a mongodb+srv URL) will never connect, so it is a
 * config error, not a 503 retried forever. Other constructor errors pass through.
 */
const DRIVER_CONFIG_ERRORS = new Set(["MongoParseError", "MongoInvalidArgumentError"]);

function asDriverConfigError(name: string, err: unknown, redact: Redactor): unknown {
  const errorName = (err as { name?: unknown } | null)?.name;
  if (typeof errorName !== "string" || !DRIVER_CONFIG_ERRORS.has(errorName)) return err;
  const message = redact(String((err as { message?: unknown }).message ?? ""));
  const setting = /\b(uri|url|scheme|host|port|srv)\b/i.test(message) ? "url" : "options";
  return new DatabaseConfigError(name, setting, `mongodb: the driver rejected the ${setting === "url" ? "connection string" : "options"}: ${message}`);
}

/**
 * The driver waits 30 s by default both to connect and to select a server,
 * and without limit for a pooled connection. The package bounds all three, and
 * keeps the driver's own deadlines inside its `connectTimeoutMs`, so that a
 * refused connection is reported by the driver as refused rather than by the
 * package as "timed out": server selection and connect get 80% of
 * `connectTimeoutMs` (8 s by default), the wait queue `acquireTimeoutMs`.
 * The package's deadline also counts loading the driver, which takes up to a
 * second on a cold, busy process: when that ate into the margin, the
 * driver's deadlines end at 90% of the package's instead. Only what neither
 * the options nor the URL (where keys are case-insensitive) set is added,
 * since the options object would override the URL. `spentMs`: how long the
 * connect has run already (loading the driver).
 */
export function withTimeoutDefaults(url: string, options: MongoClientOptions, ctx: ConnectContext, spentMs = 0): MongoClientOptions {
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1).split("#", 1)[0]! : "";
  const inUrl = new Map([...new URLSearchParams(query).entries()].map(([k, v]) => [k.toLowerCase(), v]));
  const total = ctx.connectTimeoutMs;
  const driverDeadline = Math.max(1, Math.floor(Math.min(total * 0.8, total * 0.9 - spentMs)));
  const wanted: Record<string, number> = {
    connectTimeoutMS: driverDeadline,
    serverSelectionTimeoutMS: driverDeadline,
    waitQueueTimeoutMS: ctx.acquireTimeoutMs,
  };
  const defaults: Record<string, number> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if ((options as Record<string, unknown>)[key] === undefined && !inUrl.has(key.toLowerCase())) defaults[key] = value;
  }
  // On a serverless platform: a small pool and a short idle timeout, unless set here or in the URL.
  const platform = serverlessDefaults("mongodb", options, (key) => inUrl.has(key.toLowerCase()));
  announceDefaults(platform, ctx.log);
  return { ...defaults, ...options, ...platform?.values, ...handshakeBound(options, inUrl.get("connecttimeoutms"), driverDeadline, ctx) };
}

/**
 * `connectTimeoutMS` also bounds the handshake on a socket the server
 * accepted, and that handshake is the one thing `MongoClient.close()` cannot
 * stop: a monitor's socket to a server that accepts and never answers stays
 * open until it expires. The package gives up on a connect at
 * `connectTimeoutMs` and closes the client, so a longer (or unlimited, 0)
 * value would only leave one socket behind per abandoned attempt; it is
 * lowered to the package's own driver deadline.
 */
function handshakeBound(options: MongoClientOptions, fromUrl: string | undefined, driverDeadline: number, ctx: ConnectContext): MongoClientOptions {
  const given = options.connectTimeoutMS ?? (fromUrl === undefined ? undefined : Number(fromUrl));
  if (given === undefined || !Number.isFinite(given) || (given > 0 && given <= driverDeadline)) return {};
  if (!loweredFor.has(options)) ctx.log.info(
    `connectTimeoutMS ${given === 0 ? "0 (no limit)" : `${given} ms`} lowered to ${driverDeadline} ms: a connect is abandoned at ` +
      `connectTimeoutMs (${ctx.connectTimeoutMs} ms), and the driver cannot close a handshake in progress before its connectTimeoutMS`,
  );
  loweredFor.add(options);
  return { connectTimeoutMS: driverDeadline };
}

const poolCounters = new WeakMap<MongoClient, PoolCounters>();
/** The options whose connectTimeoutMS was lowered, said once per definition rather than at every attempt. */
const loweredFor = new WeakSet<object>();
/** Clients the package closed: what their operations fail with from then on is the close. */
const closedClients = new WeakSet<MongoClient>();

/** host(s)/database, without credentials. */
function mongoTarget(url: string | undefined, dbName: string | undefined): string {
  const rest = typeof url === "string" ? url.replace(/^mongodb(\+srv)?:\/\//i, "") : "";
  const hosts = rest.split(/[/?#]/, 1)[0]!.replace(/^.*@/, "");
  let database = dbName;
  try {
    database ??= databaseName("", url ?? "", undefined);
  } catch {
    // no database name yet: validation says so
  }
  return `${hosts}/${database ?? ""}`;
}

function validateMongoConfig(name: string, options: unknown): void {
  const config = configObject(name, "mongodb", options);
  const check = new ConfigCheck(name, "mongodb", config);
  check.url("url", ["mongodb", "mongodb+srv"], true);
  check.string("dbName");
  check.integer("maxPoolSize", 1, MAX_POOL_SIZE);
  check.integer("minPoolSize", 0, MAX_POOL_SIZE);
  for (const key of ["serverSelectionTimeoutMS", "connectTimeoutMS", "socketTimeoutMS", "maxIdleTimeMS", "waitQueueTimeoutMS"]) {
    check.integer(key, 0, 2_147_483_647);
  }
}

/** `dbName`, else the URL path; a missing name is a config error, not a silent "test". */
function databaseName(name: string, url: string, dbName: string | undefined): string {
  if (dbName) return dbName;
  const path = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(url)?.[1];
  const fromUrl = path ? safeDecode(path) : "";
  if (!fromUrl) {
    throw new DatabaseConfigError(
      name,
      "dbName",
      `mongodb: no database name. Pass dbName, or put the database in the URL path (mongodb://host/mydb).`,
    );
  }
  return fromUrl;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
