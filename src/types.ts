import type { BudgetReading } from "./connection-budget.js";
import type { Failure, Verdict } from "./failure.js";
import type { SafeLogger } from "./logger.js";

/** Pool figures as the driver reports them; `null` where a driver cannot tell. */
export interface PoolStats {
  /** Connections open to the server (idle + in use). */
  open: number | null;
  idle: number | null;
  inUse: number | null;
  /** Requests queued for a connection. */
  waiting: number | null;
  /** The pool's configured maximum. */
  max: number | null;
}

export interface ConnectContext {
  /** The database name (the `name` option). */
  name: string;
  /** Redacting logger; adapters log pool error events through it. */
  log: SafeLogger;
  /**
   * Aborted when the package gives up on this connect attempt
   * (`connectTimeoutMs`, or `close()`): close whatever was opened, sockets
   * still connecting included, since nobody will ever use it.
   */
  signal: AbortSignal;
  /** Longest wait for a pooled connection, in ms (`acquireTimeoutMs`). */
  acquireTimeoutMs: number;
  /** The package's deadline for this whole connect, in ms: driver timeouts should end before it, with their own cause. */
  connectTimeoutMs: number;
  /**
   * Tells the package about an error this client raised: from a query, a
   * checkout, or an `error` event. The package learns the database's state from
   * it (an `unreachable` one makes the next requests wait on one probe, or get
   * 503 at once), even when the app catches the error itself.
   */
  report(verdict: Verdict, err: unknown): void;
  /**
   * The driver's own monitor decided the server is gone (`false`) or back
   * (`true`), as MongoDB's server monitoring does.
   */
  serverState(up: boolean, cause?: unknown): void;
  /**
   * The driver discarded a pooled connection because it broke (MongoDB's
   * `connectionClosed` with reason "error"). A request that fails meanwhile
   * with a bare socket error (`EPIPE`, `ECONNRESET`) the driver did not wrap
   * in its own class is answered as this database's: see `RequestCore.settle`.
   * Report the database's state with `report()` as well.
   */
  connectionLost(): void;
}

/**
 * What `createDatabase()` needs from a driver. Build one with `defineAdapter()`
 * or use the bundled `pg()`, `mysql2()` and `mongodb()`.
 */
export interface Adapter<TClient = unknown, TDb = TClient, TTx = never> {
  /** Short driver name, shown in stats and logs: "pg", "mysql2", "prisma". */
  readonly kind: string;
  /**
   * Throws `DatabaseConfigError` for a missing or malformed setting. Called at
   * first use, never at import, so `next build` works without env variables.
   */
  validate(name: string): void;
  /**
   * The configuration, only ever hashed: a change in dev opens a new pool.
   * Functions in it are not part of the identity (each bundle compiles them
   * differently), only where they are.
   */
  readonly config: unknown;
  /** Values to mask in every output (passwords, connection strings). */
  readonly secrets: readonly string[];
  /** Where it connects, safe to log: "127.0.0.1:5432/app". Never credentials. */
  target?(): string;
  /** Open the pool and prove it works (a ping); reject if it cannot. */
  connect(ctx: ConnectContext): Promise<TClient>;
  /** What handlers get as `req.db` / `db`. */
  db(client: TClient): TDb;
  /** Ends every connection; requests waiting for one fail at once. */
  close(client: TClient): Promise<void>;
  /**
   * A cheap round trip within `timeoutMs`. When no pooled connection comes
   * free in that time it rejects with an error `classify` calls `saturated`:
   * a busy pool is not a down database.
   */
  ping?(client: TClient, timeoutMs: number): Promise<unknown>;
  /**
   * One round trip on a connection of its own, outside the pool's queue,
   * within `timeoutMs`. For a probe or `health()` whose ping found no pooled
   * connection free: a busy database answers here, one that stopped answering (a network partition, where every
   * pooled connection waits on a reply that never comes) does not.
   */
  reachable?(client: TClient, timeoutMs: number): Promise<unknown>;
  stats?(client: TClient): Partial<PoolStats>;
  /**
   * What an error means. `client` is the pool the request used, or undefined
   * during a connect. Must answer `null` for errors this client did not raise
   * (a failed `fetch()` with ECONNREFUSED in its cause is not the database's).
   */
  classify?(err: unknown, client: TClient | undefined): Verdict;
  /**
   * True when the adapter reports connections checked out during a request to
   * the request scope, so the leak guard can release forgotten ones.
   */
  readonly tracksCheckouts?: boolean;
  /** SQL adapters: run `fn` in a transaction on one pooled connection. */
  transaction?<T>(client: TClient, fn: (tx: TTx) => Promise<T>): Promise<T>;
  /**
   * Reads the server's connection limits and current usage, for the
   * `connectionBudget` warning. Runs beside the connect; may reject.
   */
  budget?(client: TClient): Promise<BudgetReading | null>;
}

export type AnyAdapter = Adapter<any, any, any>;
export type ClientOf<A> = A extends Adapter<infer C, any, any> ? C : never;
export type DbOf<A> = A extends Adapter<any, infer D, any> ? D : never;
export type TxOf<A> = A extends Adapter<any, any, infer T> ? T : never;

/**
 * - `idle`: no pool (not used yet, or closed);
 * - `connecting`: the first connect is running;
 * - `connected`: the pool serves requests;
 * - `checking`: something said the database may be gone; one probe decides, requests wait on it;
 * - `unavailable`: in a cooldown after the database could not be reached (503);
 * - `misconfigured`: the server rejected the configuration; retried slowly;
 * - `closing`: `close()` is running.
 */
export type LifecycleState = "idle" | "connecting" | "connected" | "checking" | "unavailable" | "misconfigured" | "closing";

export interface DatabaseStats {
  name: string;
  kind: string;
  state: LifecycleState;
  /** Successful connects of this process (1 in a healthy app). */
  connects: number;
  /** Failed connects and failed recovery probes (unreachable or misconfigured). */
  failures: number;
  consecutiveFailures: number;
  /** Requests answered 503 because the pool or the server was at its limit (the database was up). */
  saturated: number;
  lastError: { message: string; code?: string; kind: Failure; at: string } | null;
  /** When the next connect attempt or probe is allowed, during a cooldown. */
  retryAt: string | null;
  connectedAt: string | null;
  /** Connections the leak guard had to release at the end of a request. */
  leaksReleased: number;
  pool: PoolStats | null;
}

/**
 * - `up`: the ping answered;
 * - `busy`: no pooled connection came free within the timeout, or the server
 *   is at its connection limit: the database is up, this instance is loaded;
 * - `down`: the database cannot be reached;
 * - `misconfigured`: the server rejected the configuration, or a setting is invalid.
 */
export type HealthStatus = "up" | "busy" | "down" | "misconfigured";

export interface HealthReport {
  /** True for `up` and `busy`: a readiness probe should keep a busy instance. */
  ok: boolean;
  status: HealthStatus;
  name: string;
  kind: string;
  /** Round trip of the ping, when it answered. */
  latencyMs: number | null;
  error: { message: string; code?: string } | null;
  stats: DatabaseStats;
}

/**
 * The second argument Next.js passes to a route handler. From Next 15 on,
 * `params` is a Promise; Next 13/14 pass a plain object, which is handed on
 * unchanged.
 */
export interface RouteContext<P = Record<string, string | string[]>> {
  params: Promise<P>;
}

/** What a handler wrapped by `database.route()` gets as its second argument. */
export type DatabaseRouteContext<P, Db, Client> = {
  params: Promise<P>;
  db: Db;
  dbClient: Client;
};
