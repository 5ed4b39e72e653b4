import type { Db, MongoClient, MongoClientOptions } from "mongodb";
import { DatabaseConfigError } from "../errors.js";
import { createRedactor, secretsOfUrl, type Redactor } from "../redact.js";
import type { Adapter, ConnectContext, PoolStats } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { hasErrorCode, NETWORK_ERROR_CODES } from "./error-codes.js";
import { loadDriver, pick } from "./load-driver.js";
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
    connect: (ctx) =>
      connectClient(ctx, url as string, dbName, clientOptions, createRedactor(secrets.filter((s): s is string => typeof s === "string" && s.length > 0))),
    db: (client) => client.db(databaseName("", url as string, dbName)),
    close: (client) => client.close(),
    ping: (client) => client.db("admin").command({ ping: 1 }),
    stats: (client) => poolCounters.get(client)?.snapshot() ?? {},
    isUnavailableError: isMongoUnavailableError,
  });
}

async function connectClient(
  ctx: ConnectContext,
  url: string,
  dbName: string | undefined,
  options: MongoClientOptions,
  redact: Redactor,
): Promise<MongoClient> {
  const mod = await loadDriver(ctx.name, "mongodb", () => import("mongodb"));
  const MongoClientClass = pick<typeof MongoClient>(mod, "MongoClient");
  let client: MongoClient;
  try {
    client = new MongoClientClass(url, withTimeoutDefaults(url, options));
  } catch (err) {
    throw asDriverConfigError(ctx.name, err, redact);
  }
  poolCounters.set(client, new PoolCounters(client, options.maxPoolSize ?? 100));
  // The client is an EventEmitter; an 'error' with no listener would be fatal.
  client.on("error", (err: Error) => ctx.log.error(`client error: ${err.message}`));
  // The driver emits no 'error' when the server drops its connections (restart,
  // failover, `killOp`, network cut): it discards the dead pooled connections
  // and, if the server stays unreachable, marks it Unknown and reconnects by
  // itself. Without these listeners such an event would leave no trace in the
  // log, unlike pg and mysql2 (contract 3: errors are handled *and logged*).
  client.on("connectionClosed", (event) => {
    if (event.reason !== "error") return; // "stale", "idle", "poolClosed": routine
    const reason = (event as { error?: { message?: string } }).error?.message ?? "socket closed";
    ctx.log.warn(`a pooled connection failed (${reason}); the driver discarded it`);
  });
  let lost = false;
  client.on("serverDescriptionChanged", (event) => {
    const was = event.previousDescription.type;
    const now = event.newDescription.type;
    if (now === "Unknown" && was !== "Unknown") {
      lost = true;
      const reason = event.newDescription.error?.message ?? "no reply";
      ctx.log.error(`lost the connection to ${event.address} (${reason}); the driver reconnects`);
    } else if (lost && was === "Unknown" && now !== "Unknown") {
      lost = false;
      ctx.log.info(`reconnected to ${event.address}`);
    }
  });
  return verifyOrClose(
    client,
    async (c) => {
      await c.connect();
      await c.db(databaseName(ctx.name, url, dbName)).command({ ping: 1 });
    },
    (c) => c.close(),
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
 * The driver waits 30 s by default both to connect and to select a server, so
 * behind a blackholed network a request hangs for up to a minute before it can
 * become a 503. 10 s, like the pg adapter's `connectionTimeoutMillis`, unless
 * the options or the URL (where keys are case-insensitive) say otherwise; the
 * options object would override the URL, so a default is only added when
 * neither sets it.
 */
export const MONGO_TIMEOUT_DEFAULTS = { connectTimeoutMS: 10_000, serverSelectionTimeoutMS: 10_000 } as const;

function withTimeoutDefaults(url: string, options: MongoClientOptions): MongoClientOptions {
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1).split("#", 1)[0]! : "";
  const inUrl = new Set([...new URLSearchParams(query).keys()].map((k) => k.toLowerCase()));
  const defaults: Partial<MongoClientOptions> = {};
  for (const [key, value] of Object.entries(MONGO_TIMEOUT_DEFAULTS)) {
    if ((options as Record<string, unknown>)[key] === undefined && !inUrl.has(key.toLowerCase())) {
      (defaults as Record<string, number>)[key] = value;
    }
  }
  return { ...defaults, ...options };
}

/**
 * Pool figures from the driver's connection-pool (CMAP) events; the driver
 * keeps no public counters. Monitoring connections are not part of the pool
 * and are not counted here.
 */
class PoolCounters {
  private open = 0;
  private inUse = 0;
  private waiting = 0;

  constructor(client: MongoClient, private readonly max: number) {
    client.on("connectionCreated", () => this.open++);
    client.on("connectionClosed", () => (this.open = Math.max(0, this.open - 1)));
    client.on("connectionCheckOutStarted", () => this.waiting++);
    client.on("connectionCheckOutFailed", () => (this.waiting = Math.max(0, this.waiting - 1)));
    client.on("connectionCheckedOut", () => {
      this.waiting = Math.max(0, this.waiting - 1);
      this.inUse++;
    });
    client.on("connectionCheckedIn", () => (this.inUse = Math.max(0, this.inUse - 1)));
  }

  snapshot(): Partial<PoolStats> {
    return { open: this.open, idle: Math.max(0, this.open - this.inUse), inUse: this.inUse, waiting: this.waiting, max: this.max };
  }
}

const poolCounters = new WeakMap<MongoClient, PoolCounters>();

const MONGO_UNAVAILABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
  "MongoPoolClearedError",
  "MongoServerClosedError",
]);

/** Server codes for a node shutting down or stepping down. */
const MONGO_UNAVAILABLE_CODES = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);

export function isMongoUnavailableError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  if (typeof e.name === "string" && MONGO_UNAVAILABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === "number" && MONGO_UNAVAILABLE_CODES.has(e.code)) return true;
  return hasErrorCode(err, NETWORK_ERROR_CODES);
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
