import type { Pool, PoolConnection, PoolOptions } from "mysql2/promise";
import { TimeoutError } from "../deadline.js";
import { announceDefaults, serverlessDefaults } from "../platform/pool-defaults.js";
import { secretsOfUrl } from "../redact.js";
import type { Adapter, ConnectContext, PoolStats } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { checkoutWithin } from "./checkout-within.js";
import { conclusivePing } from "./conclusive-ping.js";
import { loadDriver, pick } from "./load-driver.js";
import { mappedDb, type DbMapping } from "./map-db.js";
import { mysqlBudget } from "./mysql-budget.js";
import { classifyMysql } from "./mysql2-classify.js";
import { checkoutQueues, corePool, Mysql2PoolGuard, type CorePool } from "./mysql2-pool-guard.js";
import { askOutsidePool } from "./outside-pool.js";
import { RaisedErrors } from "./raised-errors.js";
import { targetLabel } from "./target-label.js";
import { verifyOrClose } from "./verify-or-close.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Pool, PoolConnection, PoolOptions } from "mysql2/promise";
export type { DbMapping } from "./map-db.js";

/** mysql2's own pool options, plus `uri` (mysql://user:pass@host:port/db). */
export type Mysql2Options = PoolOptions & { uri?: string };

/**
 * A mysql2 promise pool. `req.db` and `req.dbClient` are the pool itself.
 *
 * Differences from a bare `createPool(config)`:
 * - every pooled connection gets an `error` listener, so a connection killed
 *   while idle (server restart, `KILL`) is logged and dropped, not fatal;
 * - waiting for a connection is bounded by the package's `acquireTimeoutMs`
 *   (mysql2's queue waits forever), and a wait that times out is a 503
 *   *saturated*, not a down database;
 * - a server at its connection limit (1040, 1203) makes the pool wait for its
 *   own connections instead of failing requests;
 * - a connection whose query timed out is destroyed rather than reused.
 *
 * With a mapping, handlers get what it makes of the pool as `req.db`: Drizzle
 * (`{ db: (pool) => drizzle(pool) }`), Kysely (whose `MysqlDialect` takes the
 * callback pool: `pool.pool`). `req.dbClient` stays the promise `Pool`.
 */
export function mysql2<TDb>(config: Mysql2Options | undefined, mapping: DbMapping<Pool, TDb>): Adapter<Pool, TDb, PoolConnection>;
/** Without a mapping, handlers get the promise `Pool` itself. (Last, so that `ReturnType<typeof mysql2>` is this one.) */
export function mysql2(config?: Mysql2Options): Adapter<Pool, Pool, PoolConnection>;
export function mysql2(config?: Mysql2Options, mapping?: DbMapping<Pool, unknown>): Adapter<Pool, unknown, PoolConnection> {
  const options = config as Record<string, unknown> | undefined;
  const raised = new RaisedErrors();
  const guards = new WeakMap<Pool, Mysql2PoolGuard>();
  const secrets = [
    typeof options?.password === "string" ? options.password : undefined,
    ...secretsOfUrl(options?.uri),
  ];
  const mapped = mappedDb("mysql2", mapping, secrets);
  return defineAdapter<Pool, unknown, PoolConnection>({
    kind: "mysql2",
    config,
    secrets,
    validate: (name) => {
      validateMysqlConfig(name, config);
      mapped.validate(name);
    },
    ...(mapped.db ? { db: mapped.db } : {}),
    target: () => targetLabel(config ?? {}, config?.uri, 3306),
    connect: async (ctx) => {
      const pool = await openPool(ctx, config ?? {});
      const guard = new Mysql2PoolGuard(pool, ctx, raised);
      guards.set(pool, guard);
      return verifyOrClose(pool, (p) => p.query("SELECT 1"), () => guard.close());
    },
    close: async (pool) => {
      const guard = guards.get(pool);
      await (guard ? guard.close() : pool.end());
    },
    ping: (pool, timeoutMs) => ping(pool, timeoutMs, raised),
    reachable: (pool, timeoutMs) => reachable(pool, timeoutMs, raised),
    stats: poolStats,
    classify: (err) => raised.verdict(err, undefined),
    transaction: mysqlTransaction,
    tracksCheckouts: true,
    budget: (pool) => {
      const { max, open } = poolStats(pool);
      return mysqlBudget(pool, max ?? 10, open ?? 0);
    },
  });
}

async function openPool(ctx: ConnectContext, config: Mysql2Options): Promise<Pool> {
  const mod = await loadDriver(ctx.name, "mysql2", () => import("mysql2/promise"));
  const createPool = pick<(options: PoolOptions) => Pool>(mod, "createPool");
  // A copy: mysql2 writes the parsed host, user and password back into the
  // object it is given, which would change the user's config (and with it the
  // fingerprint, so an unchanged config would look changed on the next use).
  // On a serverless platform: a small pool and a short idle timeout, unless set.
  const platform = serverlessDefaults("mysql2", config);
  announceDefaults(platform, ctx.log);
  return createPool({ ...config, ...platform?.values });
}

/**
 * Checks out within `timeoutMs` (no free connection in that time is
 * *saturated*: up and busy), then `SELECT 1` with the time left; with a
 * timeout, the connection of a ping lost in a partition is destroyed instead
 * of staying checked out. An idle connection that turns out dead is dropped
 * and the ping tried again (`conclusivePing`).
 */
function ping(pool: Pool, timeoutMs: number, raised: RaisedErrors): Promise<void> {
  return conclusivePing({
    timeoutMs,
    idleConnections: () => corePool(pool)._freeConnections?.length ?? 0,
    once: (left) => pingOnce(pool, left, raised),
    lost: (err) => classifyMysql(err, "command") === "unreachable",
  });
}

async function pingOnce(pool: Pool, timeoutMs: number, raised: RaisedErrors): Promise<void> {
  const started = Date.now();
  // Queued behind busy connections, a slow checkout means a busy pool; opening
  // a new connection that does not finish in time means a silent database.
  const connection = await checkoutWithin(pool.getConnection(), timeoutMs, (c) => c.release(), pool, raised, checkoutQueues(corePool(pool)));
  let failed = false;
  try {
    await connection.query({ sql: "SELECT 1", timeout: Math.max(1, timeoutMs - (Date.now() - started)) });
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // A connection that failed a ping is not handed to the next caller (nor to the ping's retry).
    if (failed) connection.destroy();
    else connection.release();
  }
}

/**
 * `SELECT 1` on a connection of the pool's own configuration, outside its
 * queue (see `Adapter.reachable`). mysql2's core `Connection` with the core
 * pool's connection config is what the pool itself creates.
 */
async function reachable(pool: Pool, timeoutMs: number, raised: RaisedErrors): Promise<void> {
  const core = corePool(pool) as CorePool & { _createConnectionConfig?: () => unknown; config: { connectionConfig?: unknown } };
  const mod = await import("mysql2");
  const Connection = pick<new (options: { config: unknown }) => CoreConnection>(mod, "Connection");
  try {
    await askOutsidePool(
      () => {
        const connection = new Connection({ config: core._createConnectionConfig?.() ?? core.config.connectionConfig });
        connection.on("error", noop);
        return connection;
      },
      (connection) =>
        new Promise<void>((resolve, reject) => connection.query("SELECT 1", (err: unknown) => (err ? reject(err) : resolve()))),
      (connection) => connection.destroy(),
      timeoutMs,
    );
  } catch (err) {
    raised.mark(pool, err, err instanceof TimeoutError ? "unreachable" : classifyMysql(err, "checkout"));
    throw err;
  }
}

interface CoreConnection {
  on(event: "error", listener: (err: unknown) => void): unknown;
  query(sql: string, callback: (err: unknown) => void): unknown;
  destroy(): void;
}

function noop(): void {}

/**
 * mysql2 has no public pool counters; these queues have kept their names
 * through mysql2 3.x, and the stats tests run against the installed version.
 */
function poolStats(pool: Pool): Partial<PoolStats> {
  const core = corePool(pool);
  return {
    open: core._allConnections?.length ?? null,
    idle: core._freeConnections?.length ?? null,
    waiting: core._connectionQueue?.length ?? null,
    max: core.config?.connectionLimit ?? null,
  };
}

async function mysqlTransaction<T>(pool: Pool, fn: (tx: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  let broken = false;
  try {
    await connection.beginTransaction();
    const result = await fn(connection);
    await connection.commit();
    return result;
  } catch (err) {
    try {
      await connection.rollback();
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    if (broken) connection.destroy();
    else connection.release();
  }
}

function validateMysqlConfig(name: string, config: unknown): void {
  const options = configObject(name, "mysql2", config);
  const check = new ConfigCheck(name, "mysql2", options);
  check.url("uri", ["mysql", "mariadb"], false);
  check.string("host");
  check.string("user");
  check.string("database");
  // Unlike pg, mysql2 has no password callback: a function would fail at
  // every connect as a 503 instead of once as a config error.
  check.password("password");
  check.port("port");
  check.integer("connectionLimit", 1, MAX_POOL_SIZE);
  check.integer("maxIdle", 0, MAX_POOL_SIZE);
  check.integer("queueLimit", 0, 2_147_483_647);
  for (const key of ["connectTimeout", "idleTimeout"]) check.integer(key, 0, 2_147_483_647);
  check.boolean("waitForConnections");
}
