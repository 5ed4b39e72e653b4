import type { Pool, PoolClient, PoolConfig } from "pg";
import { TimeoutError } from "../deadline.js";
import { announceDefaults, serverlessDefaults } from "../platform/pool-defaults.js";
import { secretsOfUrl } from "../redact.js";
import type { Adapter, ConnectContext } from "../types.js";
import { defineAdapter } from "./define-adapter.js";
import { checkoutWithin } from "./checkout-within.js";
import { conclusivePing } from "./conclusive-ping.js";
import { loadDriver, pick } from "./load-driver.js";
import { mappedDb, type DbMapping } from "./map-db.js";
import { askOutsidePool } from "./outside-pool.js";
import { classifyPg } from "./pg-classify.js";
import { pgBudget } from "./pg-budget.js";
import { checkoutQueues, PgPoolGuard } from "./pg-pool-guard.js";
import { POOLER_MODES, PoolerWatch, verifyAndDetectPooler, type PoolerMode } from "./pg-pooler.js";
import { RaisedErrors } from "./raised-errors.js";
import { targetLabel } from "./target-label.js";
import { verifyOrClose } from "./verify-or-close.js";
import { show } from "../options.js";
import { ConfigCheck, configObject, MAX_POOL_SIZE } from "./validate.js";

export type { Pool, PoolClient, PoolConfig } from "pg";
export type { DbMapping } from "./map-db.js";

export type { PoolerMode } from "./pg-pooler.js";
export { TransactionPoolerError } from "./pg-pooler.js";

/** node-postgres's own `PoolConfig`, plus `pooler`. */
export type PgOptions = PoolConfig & {
  /**
   * How the pooler in front of the server (PgBouncer, Supavisor, RDS Proxy)
   * hands out server connections. `"transaction"` refuses LISTEN and warns
   * once about session SET, session advisory locks and named prepared
   * statements, which break there. Not passed to node-postgres.
   */
  pooler?: PoolerMode;
};

/**
 * A node-postgres pool. `req.db` and `req.dbClient` are the `Pool` itself.
 *
 * Differences from a bare `new Pool(config)`:
 * - an `error` listener on the pool and on every client, so a terminated
 *   backend (restart, failover, `pg_terminate_backend`) is logged, not fatal;
 * - waiting for a connection is bounded: `connectionTimeoutMillis` defaults to
 *   the package's `acquireTimeoutMs` (10 s) instead of "wait forever", and a
 *   wait that times out is a 503 *saturated*, not a down database;
 * - a server at its connection limit (53300) makes the pool wait for its own
 *   connections instead of failing requests;
 * - the first connect runs `SELECT pg_backend_pid()`, so a wrong host or
 *   password surfaces at connect time rather than inside a handler, and a
 *   pooler in between (PgBouncer) is noticed;
 * - `pooler: "transaction"` refuses LISTEN and warns once about session SET,
 *   session advisory locks and named prepared statements.
 *
 * With a mapping, handlers get what it makes of the pool as `req.db`: Drizzle
 * (`{ db: (pool) => drizzle(pool) }`), Kysely, Prisma's `PrismaPg`.
 * `req.dbClient` stays the `Pool`.
 */
export function pg<TDb>(config: PgOptions | undefined, mapping: DbMapping<Pool, TDb>): Adapter<Pool, TDb, PoolClient>;
/** Without a mapping, handlers get the `Pool` itself. (Last, so that `ReturnType<typeof pg>` is this one.) */
export function pg(config?: PgOptions): Adapter<Pool, Pool, PoolClient>;
export function pg(config?: PgOptions, mapping?: DbMapping<Pool, unknown>): Adapter<Pool, unknown, PoolClient> {
  const options = config as Record<string, unknown> | undefined;
  const raised = new RaisedErrors();
  const guards = new WeakMap<Pool, PgPoolGuard>();
  const secrets = [
    typeof options?.password === "string" ? options.password : undefined,
    ...secretsOfUrl(options?.connectionString),
    ...sslSecrets(options?.ssl),
  ];
  const mapped = mappedDb("pg", mapping, secrets);
  return defineAdapter<Pool, unknown, PoolClient>({
    kind: "pg",
    config,
    secrets,
    validate: (name) => {
      validatePgConfig(name, config);
      mapped.validate(name);
    },
    ...(mapped.db ? { db: mapped.db } : {}),
    target: () => targetLabel(config ?? {}, config?.connectionString, 5432),
    connect: async (ctx) => {
      const pool = await openPool(ctx, config ?? {});
      const guard = new PgPoolGuard(pool, ctx, raised, new PoolerWatch(config?.pooler, ctx.log));
      guards.set(pool, guard);
      return verifyOrClose(pool, async (p) => guard.pooler.detected(await verifyAndDetectPooler(p)), () => guard.close());
    },
    close: async (pool) => {
      const guard = guards.get(pool);
      await (guard ? guard.close() : pool.end());
    },
    ping: (pool, timeoutMs) => ping(pool, timeoutMs, raised, guards.get(pool)),
    reachable: (pool, timeoutMs) => reachable(pool, timeoutMs, raised),
    stats: (pool) => ({
      open: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: (pool.options as { max?: number }).max ?? 10,
    }),
    classify: (err) => raised.verdict(err, undefined),
    transaction: pgTransaction,
    tracksCheckouts: true,
    budget: (pool) => {
      const guard = guards.get(pool);
      return pgBudget(pool, guard?.pooler.behindPooler ?? false, guard && ((sql) => guard.queryForPackage(sql)));
    },
  });
}

async function openPool(ctx: ConnectContext, config: PgOptions): Promise<Pool> {
  const mod = await loadDriver(ctx.name, "pg", () => import("pg"));
  const PoolClass = pick<typeof Pool>(mod, "Pool");
  const { pooler: _pooler, ...poolConfig } = config;
  // 0 means "wait forever" to node-postgres; the package never does.
  const connectionTimeoutMillis = poolConfig.connectionTimeoutMillis || ctx.acquireTimeoutMs;
  // On a serverless platform: a small pool and a short idle timeout, unless set.
  const platform = serverlessDefaults("pg", poolConfig);
  announceDefaults(platform, ctx.log);
  return new PoolClass({ ...poolConfig, ...platform?.values, connectionTimeoutMillis });
}

/**
 * Checks out within `timeoutMs` (no free connection in that time is
 * *saturated*, which a probe reads as "up and busy"), then `SELECT 1` with the
 * time left, so a ping lost in a partition does not keep its client checked out.
 * An idle client that turns out dead is destroyed and the ping tried again
 * (`conclusivePing`).
 */
function ping(pool: Pool, timeoutMs: number, raised: RaisedErrors, guard: PgPoolGuard | undefined): Promise<void> {
  return conclusivePing({
    timeoutMs,
    idleConnections: () => pool.idleCount,
    once: (left) => pingOnce(pool, left, raised, guard),
    lost: (err) => classifyPg(err, false) === "unreachable",
  });
}

async function pingOnce(pool: Pool, timeoutMs: number, raised: RaisedErrors, guard: PgPoolGuard | undefined): Promise<void> {
  const started = Date.now();
  // Queued behind busy connections, a slow checkout means a busy pool; opening
  // a new connection that does not finish in time means a silent database.
  const client = await checkoutWithin(pool.connect(), timeoutMs, (c) => c.release(), pool, raised, checkoutQueues(pool));
  guard?.heldForPackage(client);
  let broken: Error | undefined;
  try {
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    await client.query({ text: "SELECT 1", query_timeout: left } as { text: string });
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** `SELECT 1` on a client of the pool's own configuration, outside its queue (see `Adapter.reachable`). */
async function reachable(pool: Pool, timeoutMs: number, raised: RaisedErrors): Promise<void> {
  const { Client, options } = pool as unknown as { Client: new (config: PoolConfig) => PoolClient & { connect(): Promise<void>; end(): Promise<void> }; options: PoolConfig };
  try {
    await askOutsidePool(
      () => {
        const client = new Client({ ...options, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
        client.on("error", noop);
        return client;
      },
      async (client) => {
        await client.connect();
        await client.query("SELECT 1");
      },
      (client) => void client.end().catch(noop),
      timeoutMs,
    );
  } catch (err) {
    raised.mark(pool, err, err instanceof TimeoutError ? "unreachable" : classifyPg(err, false));
    throw err;
  }
}

function noop(): void {}

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

function validatePgConfig(name: string, config: unknown): void {
  const options = configObject(name, "pg", config);
  const check = new ConfigCheck(name, "pg", options);
  check.url("connectionString", ["postgres", "postgresql", "socket"], false);
  check.string("host");
  check.string("user");
  check.string("database");
  check.stringOrFunction("password");
  if (typeof options.password === "function" && typeof options.connectionString === "string") {
    // node-postgres spreads the parsed URL over the options, password included
    // (an empty string when the URL has none): the callback would never run,
    // and every connect would fail as "empty password returned by client".
    check.fail(
      "password",
      "is a function, but connectionString is set: node-postgres then takes the password from the connection string " +
        "(an empty one when it has none) and never calls the function. Give host, port, user and database instead of connectionString.",
    );
  }
  check.port("port");
  check.integer("max", 1, MAX_POOL_SIZE);
  check.integer("min", 0, typeof options.max === "number" ? options.max : MAX_POOL_SIZE);
  for (const key of ["idleTimeoutMillis", "connectionTimeoutMillis", "statement_timeout", "query_timeout", "idle_in_transaction_session_timeout", "maxLifetimeSeconds"]) {
    check.integer(key, 0, 2_147_483_647);
  }
  check.string("application_name");
  const pooler = options.pooler;
  if (pooler !== undefined && !(POOLER_MODES as readonly unknown[]).includes(pooler)) {
    check.fail("pooler", `must be ${POOLER_MODES.map((m) => `"${m}"`).join(" or ")} (how the pooler in front of the server hands out connections), got ${show(pooler)}.`);
  }
}

function sslSecrets(ssl: unknown): string[] {
  if (typeof ssl !== "object" || ssl === null) return [];
  const { key, passphrase } = ssl as { key?: unknown; passphrase?: unknown };
  return [key, passphrase].filter((v): v is string => typeof v === "string");
}
