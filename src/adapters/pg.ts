import type { Pool, PoolClient, PoolConfig } from "pg";
import { secretsOfUrl } from "../redact.js";
import { currentScope, type CheckoutOwner } from "../request-scope.js";
import type { Adapter, ConnectContext } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { hasErrorCode, messageOf, NETWORK_ERROR_CODES } from "./error-codes.js";
import { loadDriver, pick } from "./load-driver.js";
import { pgBudget } from "./pg-budget.js";
import { verifyOrClose } from "./verify-or-close.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Pool, PoolClient, PoolConfig } from "pg";

/** node-postgres's own `PoolConfig`. */
export type PgOptions = PoolConfig;

/**
 * A node-postgres pool. `req.db` and `req.dbClient` are the `Pool` itself.
 *
 * Differences from a bare `new Pool(config)`:
 * - an `error` listener on the pool and on every client, so a terminated
 *   backend (restart, failover, `pg_terminate_backend`) is logged, not fatal;
 * - `connectionTimeoutMillis` defaults to 10000 instead of "wait forever";
 * - the first connect runs `SELECT 1`, so a wrong host or password surfaces
 *   as a 503 at connect time rather than inside a handler.
 */
export function pg(config?: PgOptions): Adapter<Pool, Pool, PoolClient> {
  const options = config as Record<string, unknown> | undefined;
  return defineAdapter<Pool, Pool, PoolClient>({
    kind: "pg",
    config,
    secrets: [
      typeof options?.password === "string" ? options.password : undefined,
      ...secretsOfUrl(options?.connectionString),
      ...sslSecrets(options?.ssl),
    ],
    validate: (name) => validatePgConfig(name, config),
    connect: (ctx) => connectPool(ctx, config ?? {}),
    close: (pool) => pool.end(),
    ping,
    stats: (pool) => ({
      open: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: (pool.options as { max?: number }).max ?? 10,
    }),
    isUnavailableError: isPgUnavailableError,
    transaction: pgTransaction,
    tracksCheckouts: true,
    budget: pgBudget,
  });
}

async function connectPool(ctx: ConnectContext, config: PoolConfig): Promise<Pool> {
  const mod = await loadDriver(ctx.name, "pg", () => import("pg"));
  const PoolClass = pick<typeof Pool>(mod, "Pool");
  const pool = new PoolClass({ connectionTimeoutMillis: 10_000, ...config });
  pool.on("error", (err) => {
    ctx.log.error(`an idle connection failed (${codeOf(err)}: ${err.message}); the pool discarded it`);
  });
  // A checked-out client has no pool listener: without ours, its connection
  // dying between queries would be an uncaught 'error' event.
  pool.on("connect", (client) => {
    client.on("error", (err) => {
      ctx.log.warn(`a connection failed while checked out (${codeOf(err)}: ${err.message})`);
    });
  });
  trackCheckouts(pool, { name: ctx.name, log: ctx.log });
  return verifyOrClose(pool, (p) => ping(p), (p) => p.end());
}

/** With a timeout, the client of a ping lost in a partition is released (and discarded) by the driver. */
const ping = (pool: Pool, timeoutMs?: number) =>
  pool.query(timeoutMs ? ({ text: "SELECT 1", query_timeout: timeoutMs } as { text: string }) : "SELECT 1");

/**
 * Reports `await pool.connect()` checkouts to the request scope, so the leak
 * guard can release a client a handler forgot. The callback form (used by
 * `pool.query` itself, which always releases) passes straight through.
 */
function trackCheckouts(pool: Pool, owner: CheckoutOwner): void {
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<PoolClient> | undefined;
  (pool as { connect: unknown }).connect = function trackedConnect(callback?: unknown) {
    if (callback !== undefined) return connect(callback);
    const scope = currentScope();
    if (scope === undefined) return connect();
    return (connect() as Promise<PoolClient>).then((client) => {
      const release = client.release;
      // Destroying (release(true)) rather than returning it: a leaked client may be mid-transaction.
      const untrack = scope.track(owner, () => release.call(client, true));
      client.release = (err?: Error | boolean) => {
        untrack();
        return release.call(client, err);
      };
      return client;
    });
  };
}

async function pgTransaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      // The connection is in an unknown state: destroy it instead of reusing it.
      broken = rollbackError as Error;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** SQLSTATEs meaning the server is going away or refusing connections. */
const PG_UNAVAILABLE_CODES = new Set([
  ...NETWORK_ERROR_CODES,
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
  "08000", "08001", "08003", "08004", "08006", // connection exceptions
]);

// "Query read timeout" is `query_timeout` firing: the server did not answer in time.
const PG_UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Cannot use a pool after calling end|Query read timeout/i;

export function isPgUnavailableError(err: unknown): boolean {
  return hasErrorCode(err, PG_UNAVAILABLE_CODES) || PG_UNAVAILABLE_MESSAGES.test(messageOf(err));
}

function validatePgConfig(name: string, config: unknown): void {
  const options = configObject(name, "pg", config);
  const check = new ConfigCheck(name, "pg", options);
  check.url("connectionString", ["postgres", "postgresql", "socket"], false);
  check.string("host");
  check.string("user");
  check.string("database");
  check.stringOrFunction("password");
  check.port("port");
  check.integer("max", 1, MAX_POOL_SIZE);
  check.integer("min", 0, typeof options.max === "number" ? options.max : MAX_POOL_SIZE);
  for (const key of ["idleTimeoutMillis", "connectionTimeoutMillis", "statement_timeout", "query_timeout", "idle_in_transaction_session_timeout", "maxLifetimeSeconds"]) {
    check.integer(key, 0, 2_147_483_647);
  }
  check.string("application_name");
}

function sslSecrets(ssl: unknown): string[] {
  if (typeof ssl !== "object" || ssl === null) return [];
  const { key, passphrase } = ssl as { key?: unknown; passphrase?: unknown };
  return [key, passphrase].filter((v): v is string => typeof v === "string");
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
