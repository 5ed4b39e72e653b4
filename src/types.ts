import type { BudgetReading } from "./connection-budget.js";
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
  /** The configuration, only ever hashed: a change in dev opens a new pool. */
  readonly config: unknown;
  /** Values to mask in every output (passwords, connection strings). */
  readonly secrets: readonly string[];
  /** Open the pool and prove it works (a ping); reject if it cannot. */
  connect(ctx: ConnectContext): Promise<TClient>;
  /** What handlers get as `req.db` / `db`. */
  db(client: TClient): TDb;
  close(client: TClient): Promise<void>;
  /**
   * A cheap round trip. `timeoutMs` is how long the caller will wait: a driver
   * that can should give up on the query itself by then, so that a ping lost
   * in a network partition does not keep a pooled connection checked out.
   */
  ping?(client: TClient, timeoutMs?: number): Promise<unknown>;
  stats?(client: TClient): Partial<PoolStats>;
  /** True for errors that mean "the server is unreachable", which answer 503. */
  isUnavailableError?(err: unknown): boolean;
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

export type LifecycleState = "idle" | "connecting" | "connected" | "unavailable" | "closing";

export interface DatabaseStats {
  name: string;
  kind: string;
  state: LifecycleState;
  /** Successful connects of this process (1 in a healthy app). */
  connects: number;
  /** Failed connects and failed recovery probes. */
  failures: number;
  consecutiveFailures: number;
  lastError: { message: string; code?: string; at: string } | null;
  /** When the next connect attempt is allowed, during a cooldown. */
  retryAt: string | null;
  connectedAt: string | null;
  /** Connections the leak guard had to release at the end of a request. */
  leaksReleased: number;
  pool: PoolStats | null;
}

export interface HealthReport {
  ok: boolean;
  name: string;
  kind: string;
  /** Round trip of the ping, when it answered. */
  latencyMs: number | null;
  error: { message: string; code?: string } | null;
  stats: DatabaseStats;
}
