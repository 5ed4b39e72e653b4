import type { Pool, PoolConnection, PoolOptions } from "mysql2/promise";
import { secretsOfUrl } from "../redact.js";
import { currentScope, type CheckoutOwner } from "../request-scope.js";
import type { Adapter, ConnectContext, PoolStats } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { hasErrorCode, messageOf, NETWORK_ERROR_CODES } from "./error-codes.js";
import { loadDriver, pick } from "./load-driver.js";
import { mysqlBudget } from "./mysql-budget.js";
import { verifyOrClose } from "./verify-or-close.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Pool, PoolConnection, PoolOptions } from "mysql2/promise";

/** mysql2's own pool options, plus `uri` (mysql://user:pass@host:port/db). */
export type Mysql2Options = PoolOptions & { uri?: string };

/**
 * A mysql2 promise pool. `req.db` and `req.dbClient` are the pool itself.
 *
 * Every pooled connection gets an `error` listener, so a connection killed
 * while idle (server restart, `KILL`) is logged and dropped, not fatal.
 */
export function mysql2(config?: Mysql2Options): Adapter<Pool, Pool, PoolConnection> {
  const options = config as Record<string, unknown> | undefined;
  return defineAdapter<Pool, Pool, PoolConnection>({
    kind: "mysql2",
    config,
    secrets: [
      typeof options?.password === "string" ? options.password : undefined,
      ...secretsOfUrl(options?.uri),
    ],
    validate: (name) => validateMysqlConfig(name, config),
    connect: (ctx) => connectPool(ctx, config ?? {}),
    close: (pool) => pool.end(),
    ping,
    stats: poolStats,
    isUnavailableError: isMysqlUnavailableError,
    transaction: mysqlTransaction,
    tracksCheckouts: true,
    budget: (pool) => {
      const { max, open } = poolStats(pool);
      return mysqlBudget(pool, max ?? 10, open ?? 0);
    },
  });
}

async function connectPool(ctx: ConnectContext, config: Mysql2Options): Promise<Pool> {
  const mod = await loadDriver(ctx.name, "mysql2", () => import("mysql2/promise"));
  const createPool = pick<(options: PoolOptions) => Pool>(mod, "createPool");
  // A copy: mysql2 writes the parsed host, user and password back into the
  // object it is given, which would change the user's config (and with it the
  // fingerprint, so an unchanged config would look changed on the next use).
  const pool = createPool({ ...config });
  // mysql2's pool removes a failed connection on its first 'error' only; a
  // listener of our own keeps any later one from becoming an uncaught event.
  corePool(pool).on("connection", (connection: CoreConnection) => {
    connection.on("error", (err: Error & { code?: string }) => {
      ctx.log.warn(`a pooled connection failed (${err.code ?? "error"}: ${err.message}); the pool discarded it`);
    });
    destroyAfterQueryTimeout(connection, ctx);
  });
  trackCheckouts(pool, { name: ctx.name, log: ctx.log });
  return verifyOrClose(pool, (p) => ping(p), (p) => p.end());
}

/** A pooled connection of the callback API, as the pool's 'connection' event passes it. */
interface CoreConnection extends NodeJS.EventEmitter {
  addCommand(cmd: { onResult?: (err: unknown, ...rest: unknown[]) => unknown }): unknown;
  destroy(): void;
}

/**
 * When a query's `timeout` fires, mysql2 answers the caller but leaves the
 * command on the connection, waiting for a reply that may never come (a
 * network partition): the pool counts that connection as checked out until the
 * socket dies, which can take minutes. A few timeouts exhaust the pool, and as
 * mysql2's queue has no time limit, every later request hangs. Found by the
 * partition scenario (test/reliability/latency-blackhole.test.ts). The
 * connection's state is unknown after a timeout anyway: destroy it, so the
 * pool frees its slot and opens a fresh one when needed.
 */
function destroyAfterQueryTimeout(connection: CoreConnection, ctx: ConnectContext): void {
  const addCommand = connection.addCommand;
  if (typeof addCommand !== "function") return;
  connection.addCommand = function addCommandWithTimeoutCleanup(cmd) {
    const onResult = cmd?.onResult;
    if (typeof onResult === "function") {
      cmd.onResult = function (this: unknown, err: unknown, ...rest: unknown[]) {
        if ((err as { code?: unknown } | null)?.code === "PROTOCOL_SEQUENCE_TIMEOUT") {
          ctx.log.warn("a query timed out; its connection is in an unknown state and was destroyed");
          connection.destroy();
        }
        return onResult.call(this, err, ...rest);
      };
    }
    return addCommand.call(this, cmd);
  };
}

/** With a timeout, the connection of a ping lost in a partition is destroyed (see above) instead of staying checked out. */
const ping = (pool: Pool, timeoutMs?: number) =>
  timeoutMs ? pool.query({ sql: "SELECT 1", timeout: timeoutMs }) : pool.query("SELECT 1");

/** The callback pool behind the promise wrapper: it has the events and the queues. */
interface CorePool extends NodeJS.EventEmitter {
  config?: { connectionLimit?: number };
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

function corePool(pool: Pool): CorePool {
  return (pool as unknown as { pool: CorePool }).pool;
}

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

/** Reports `getConnection()` checkouts to the request scope for the leak guard. */
function trackCheckouts(pool: Pool, owner: CheckoutOwner): void {
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = async function trackedGetConnection() {
    const scope = currentScope();
    const connection = await getConnection();
    if (scope === undefined) return connection;
    const { release, destroy } = connection;
    // Destroying rather than releasing: a leaked connection may be mid-transaction.
    const untrack = scope.track(owner, () => destroy.call(connection));
    connection.release = () => {
      untrack();
      release.call(connection);
    };
    connection.destroy = () => {
      untrack();
      destroy.call(connection);
    };
    return connection;
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

const MYSQL_UNAVAILABLE_CODES = new Set([
  ...NETWORK_ERROR_CODES,
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR", // too many connections
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED", // MariaDB: KILL of this connection
  "ER_SERVER_GONE_ERROR",
  "ER_SERVER_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT", // the query's `timeout` fired: no answer from the server in time
]);

const MYSQL_UNAVAILABLE_MESSAGES = /closed state|Pool is closed|Connection lost/i;

export function isMysqlUnavailableError(err: unknown): boolean {
  if (hasErrorCode(err, MYSQL_UNAVAILABLE_CODES)) return true;
  return MYSQL_UNAVAILABLE_MESSAGES.test(messageOf(err));
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
