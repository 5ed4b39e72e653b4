import { DatabaseConfigError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import type { OpenPool } from "./lifecycle.js";
import { createSafeLogger, type Logger, type SafeLogger } from "./logger.js";
import { nameOf, resolveOptions, show, type ResolvedOptions } from "./options.js";
import { createRedactor, type Redactor } from "./redact.js";
import { processState } from "./registry.js";
import type { AnyAdapter } from "./types.js";

/**
 * One `createDatabase()` call: the adapter and options as written in the
 * module that was evaluated. Hot reload and each Next.js bundle make new
 * definitions; they share the lifecycle of their name and its pool while
 * their fingerprints match.
 *
 * Nothing here throws or connects at construction (import time): options and
 * adapter are checked by `prepare()`, at first use.
 */
export class Definition {
  readonly name: string;
  readonly redact: Redactor;
  readonly log: SafeLogger;
  /**
   * Order of evaluation in this process: a definition evaluated before a pool
   * was replaced by another configuration is the older of the two.
   */
  readonly serial: number;
  /** Set by `prepare()`; compared on the hot path to the pool's fingerprint. */
  fingerprint: string | undefined;
  private resolved: ResolvedOptions | undefined;
  private ready: Promise<void> | undefined;
  /** `db` made by this definition's adapter for a pool another definition opened, per pool. */
  private readonly ownDb = new WeakMap<object, unknown>();

  constructor(
    readonly adapter: AnyAdapter,
    private readonly rawOptions: unknown,
  ) {
    this.name = nameOf(rawOptions as { name?: string });
    this.serial = ++processState().definitions;
    const secrets = isAdapterLike(adapter) && Array.isArray(adapter.secrets) ? adapter.secrets : [];
    this.redact = createRedactor(secrets);
    const logger = (rawOptions as { logger?: unknown } | undefined)?.logger;
    this.log = createSafeLogger(this.name, isLoggerLike(logger) ? logger : undefined, this.redact);
  }

  get kind(): string {
    return isAdapterLike(this.adapter) ? this.adapter.kind : "unknown";
  }

  /** "pg 127.0.0.1:5432/app": what this definition connects to, safe to log. */
  get label(): string {
    let target = "";
    try {
      target = isAdapterLike(this.adapter) ? (this.adapter.target?.() ?? "") : "";
    } catch {
      // a description is a courtesy; it must never break an error path
    }
    return target ? `${this.kind} ${this.redact(target)}` : this.kind;
  }

  /** Options after `prepare()`. */
  get options(): ResolvedOptions {
    if (!this.resolved) throw new Error("next-db-connect: internal: options read before prepare()");
    return this.resolved;
  }

  /**
   * What this definition's handlers get as `db` from a pool. Definitions share
   * a pool by configuration alone, but what they make of it is their own: the
   * App Router bundle's Drizzle instance comes from its own copy of
   * drizzle-orm and its own schema, a Kysely definition next to a Drizzle one
   * (same configuration, same name) gets Kysely, and after a hot reload the
   * edited schema is used without reconnecting. Made once per pool.
   */
  dbOf(pool: OpenPool): unknown {
    if (pool.def === this) return pool.db;
    const key = pool.client;
    if (typeof key !== "object" || key === null) return this.adapter.db(key);
    if (this.ownDb.has(key)) return this.ownDb.get(key);
    const db = this.adapter.db(key);
    this.ownDb.set(key, db);
    return db;
  }

  /** Validates once; a config error is remembered and thrown again on every use. */
  prepare(): Promise<void> {
    return (this.ready ??= this.validate());
  }

  private async validate(): Promise<void> {
    const options = resolveOptions(this.rawOptions);
    if (!isAdapterLike(this.adapter)) {
      throw new DatabaseConfigError(
        this.name,
        "adapter",
        `createDatabase() needs an adapter: pg() from "next-db-connect/pg", mysql2() from "next-db-connect/mysql2", ` +
          `mongodb() from "next-db-connect/mongodb", or defineAdapter(); got ${show(this.adapter)}.`,
      );
    }
    this.adapter.validate(this.name);
    this.fingerprint = await fingerprint(processState().fingerprintKey, this.adapter.kind, this.adapter.config);
    this.resolved = options;
  }
}

function isAdapterLike(value: unknown): value is AnyAdapter {
  const a = value as AnyAdapter | null | undefined;
  return (
    typeof a === "object" && a !== null && typeof a.kind === "string" &&
    typeof a.connect === "function" && typeof a.close === "function" &&
    typeof a.db === "function" && typeof a.validate === "function"
  );
}

function isLoggerLike(value: unknown): value is Logger | false {
  return value === false || (typeof value === "object" && value !== null);
}
