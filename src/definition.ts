import { DatabaseConfigError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { createSafeLogger, type Logger, type SafeLogger } from "./logger.js";
import { nameOf, resolveOptions, show, type ResolvedOptions } from "./options.js";
import { createRedactor, type Redactor } from "./redact.js";
import { registry } from "./registry.js";
import type { AnyAdapter } from "./types.js";

/**
 * One `createDatabase()` call: the adapter and options as written in the
 * module that was evaluated. Hot reload makes new definitions; they share the
 * lifecycle of their name and reuse its pool while the fingerprint matches.
 *
 * Nothing here throws or connects at construction (import time): options and
 * adapter are checked by `prepare()`, at first use.
 */
export class Definition {
  readonly name: string;
  readonly redact: Redactor;
  readonly log: SafeLogger;
  /** Set by `prepare()`; compared on the hot path to the pool's fingerprint. */
  fingerprint: string | undefined;
  private resolved: ResolvedOptions | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    readonly adapter: AnyAdapter,
    private readonly rawOptions: unknown,
  ) {
    this.name = nameOf(rawOptions as { name?: string });
    const secrets = isAdapterLike(adapter) && Array.isArray(adapter.secrets) ? adapter.secrets : [];
    this.redact = createRedactor(secrets);
    const logger = (rawOptions as { logger?: unknown } | undefined)?.logger;
    this.log = createSafeLogger(this.name, isLoggerLike(logger) ? logger : undefined, this.redact);
  }

  get kind(): string {
    return isAdapterLike(this.adapter) ? this.adapter.kind : "unknown";
  }

  /** Options after `prepare()`. */
  get options(): ResolvedOptions {
    if (!this.resolved) throw new Error("next-db-connect: internal: options read before prepare()");
    return this.resolved;
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
    this.fingerprint = await fingerprint(registry().fingerprintKey, this.adapter.kind, this.adapter.config);
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
