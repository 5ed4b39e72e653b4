import { DatabaseConfigError } from "./errors.js";
import type { Logger } from "./logger.js";

export interface RetryOptions {
  /** Cooldown after the first failure, in ms. During it requests fail fast with 503. Default 1000. */
  cooldownMs?: number;
  /** Longest cooldown, in ms. Default 30000. */
  maxCooldownMs?: number;
  /** Each consecutive failure multiplies the cooldown by this. Default 2. */
  factor?: number;
  /**
   * Fraction of each cooldown taken off at random (0 to 1), so that many
   * instances that failed together do not all retry in the same instant.
   * A cooldown is never longer than configured. Default 0.2; 0 disables.
   */
  jitter?: number;
}

export interface ConnectionBudgetOptions {
  /** Warn when this pool at its max would bring usage past this fraction of the tightest limit. Default 0.8. */
  warnAt?: number;
  /** Longest time the check may add to the first connect, in ms; past it the check is dropped. Default 1000. */
  timeoutMs?: number;
}

export interface DatabaseOptions<TClient = unknown, TDb = unknown> {
  /** Registry key; give each database its own when an app has several. Default "default". */
  name?: string;
  retry?: RetryOptions;
  /**
   * Longest time one connect attempt may take (driver connect + ping +
   * onConnect), in ms. An attempt abandoned at this deadline is closed, with
   * its sockets. Default 10000.
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait of a request for a pooled connection, in ms, on every driver
   * (pg's queue, mysql2's queue, MongoDB's wait queue). A request that waits
   * longer gets 503 with `Retry-After` as *saturated*: the database is up and
   * busy, so nothing else changes. Default 10000.
   */
  acquireTimeoutMs?: number;
  /** Default timeout of `health()` and of the recovery probe after an outage, in ms. Default 2000. */
  healthTimeoutMs?: number;
  /**
   * Longest wait of `close()` for connections still checked out, in ms; after
   * it, `close()` resolves with a warning and they close when released. Default 5000.
   */
  closeTimeoutMs?: number;
  /**
   * Runs once after each successful connect, before any request gets the pool:
   * create indexes, run a migration check, hand the pool to a platform hook.
   * If it throws, the connect counts as failed and is retried after the cooldown.
   */
  onConnect?: (connection: { name: string; client: TClient; db: TDb }) => unknown;
  /** Where to log; `false` for silence. Lines are always redacted. Default `console`. */
  logger?: Logger | false;
  /**
   * Release SQL connections a request checked out and never released, when the
   * request ends, with a warning naming the route. Default true.
   */
  leakGuard?: boolean;
  /**
   * SQL adapters: after connecting, read the server's connection limits
   * (PostgreSQL max_connections, reserved slots, role and database limits;
   * MariaDB/MySQL max_connections, max_user_connections) and current usage,
   * and warn once when this pool's max would push usage past `warnAt` of the
   * tightest one. Adds one short query to the first connect (bounded by
   * `timeoutMs`); a refused or slow query is ignored. `false`
   * turns it off. Default on.
   */
  connectionBudget?: boolean | ConnectionBudgetOptions;
  /**
   * On Vercel, with `@vercel/functions` installed: hand each pool to its
   * `attachDatabasePool()` at connect, so Fluid compute keeps an instance alive
   * until the pool's idle connections have closed. `false` turns it off.
   * Nothing happens off Vercel or without the package. Default true.
   */
  attachDatabasePool?: boolean;
}

export interface ResolvedOptions {
  name: string;
  cooldownMs: number;
  maxCooldownMs: number;
  factor: number;
  jitter: number;
  connectTimeoutMs: number;
  acquireTimeoutMs: number;
  healthTimeoutMs: number;
  closeTimeoutMs: number;
  onConnect: DatabaseOptions<any, any>["onConnect"];
  leakGuard: boolean;
  /** `null` when the check is off. */
  connectionBudget: Required<ConnectionBudgetOptions> | null;
  attachDatabasePool: boolean;
}

const DEFAULT_NAME = "default";

/** The name is needed before validation (registry key, error messages). */
export function nameOf(options: DatabaseOptions<any, any> | undefined): string {
  const name = (options as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name.length > 0 ? name : DEFAULT_NAME;
}

export function resolveOptions(options: unknown): ResolvedOptions {
  const name = nameOf(options as DatabaseOptions);
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new DatabaseConfigError(name, "options", `createDatabase() options must be an object, got ${show(options)}.`);
  }
  const o = options as DatabaseOptions<any, any> & Record<string, unknown>;
  if (o.name !== undefined && (typeof o.name !== "string" || o.name.length === 0)) {
    throw new DatabaseConfigError(name, "name", `option "name" must be a non-empty string.`);
  }
  const retry = o.retry ?? {};
  if (typeof retry !== "object") {
    throw new DatabaseConfigError(name, "retry", `option "retry" must be an object.`);
  }
  const cooldownMs = number(name, "retry.cooldownMs", retry.cooldownMs, 1000, 0, 3_600_000);
  const maxCooldownMs = number(name, "retry.maxCooldownMs", retry.maxCooldownMs, Math.max(30_000, cooldownMs), cooldownMs, 3_600_000);
  const factor = number(name, "retry.factor", retry.factor, 2, 1, 100);
  const jitter = number(name, "retry.jitter", retry.jitter, 0.2, 0, 1);
  const connectTimeoutMs = number(name, "connectTimeoutMs", o.connectTimeoutMs, 10_000, 1, 600_000);
  const acquireTimeoutMs = number(name, "acquireTimeoutMs", o.acquireTimeoutMs, 10_000, 1, 600_000);
  const healthTimeoutMs = number(name, "healthTimeoutMs", o.healthTimeoutMs, 2000, 1, 600_000);
  const closeTimeoutMs = number(name, "closeTimeoutMs", o.closeTimeoutMs, 5000, 1, 600_000);
  if (o.onConnect !== undefined && typeof o.onConnect !== "function") {
    throw new DatabaseConfigError(name, "onConnect", `option "onConnect" must be a function.`);
  }
  if (o.leakGuard !== undefined && typeof o.leakGuard !== "boolean") {
    throw new DatabaseConfigError(name, "leakGuard", `option "leakGuard" must be true or false.`);
  }
  const connectionBudget = budgetOptions(name, o.connectionBudget);
  if (o.attachDatabasePool !== undefined && typeof o.attachDatabasePool !== "boolean") {
    throw new DatabaseConfigError(name, "attachDatabasePool", `option "attachDatabasePool" must be true or false, got ${show(o.attachDatabasePool)}.`);
  }
  const logger = o.logger;
  if (logger !== undefined && logger !== false && (typeof logger !== "object" || logger === null ||
      typeof logger.warn !== "function" || typeof logger.error !== "function")) {
    throw new DatabaseConfigError(name, "logger", `option "logger" must have warn() and error() methods, or be false.`);
  }
  return {
    name, cooldownMs, maxCooldownMs, factor, jitter, connectTimeoutMs, acquireTimeoutMs, healthTimeoutMs, closeTimeoutMs,
    onConnect: o.onConnect, leakGuard: o.leakGuard ?? true, connectionBudget,
    attachDatabasePool: o.attachDatabasePool ?? true,
  };
}

function budgetOptions(name: string, value: unknown): Required<ConnectionBudgetOptions> | null {
  if (value === false) return null;
  if (value === undefined || value === true) return { warnAt: 0.8, timeoutMs: 1000 };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DatabaseConfigError(name, "connectionBudget", `option "connectionBudget" must be true, false or { warnAt, timeoutMs }, got ${show(value)}.`);
  }
  const o = value as ConnectionBudgetOptions;
  return {
    warnAt: number(name, "connectionBudget.warnAt", o.warnAt, 0.8, 0.01, 1),
    timeoutMs: number(name, "connectionBudget.timeoutMs", o.timeoutMs, 1000, 1, 60_000),
  };
}

function number(db: string, setting: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new DatabaseConfigError(db, setting, `option "${setting}" must be a number from ${min} to ${max}, got ${show(value)}.`);
  }
  return value;
}

/** A value described for an error message without echoing strings (they may be secrets). */
export function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (typeof value === "string") return value.length === 0 ? "an empty string" : "a string";
  return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value;
}
