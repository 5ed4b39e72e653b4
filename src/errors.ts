/**
 * Errors thrown by next-db-connect. Each carries a stable `code` and an HTTP
 * `status`, and none ever holds a password or a full connection string.
 *
 * `instanceof` works across copies of the package (ESM and CJS builds, or two
 * bundles of one Next.js app) because it checks a brand registered with
 * `Symbol.for`, not the class identity.
 */

const BRAND = Symbol.for("next-db-connect.error");

type ErrorCode =
  | "DATABASE_CONFIG"
  | "DATABASE_UNAVAILABLE"
  | "DATABASE_RUNTIME";

export abstract class DatabaseError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly status: number;
  /** Name of the database (the `name` option) this error is about. */
  readonly database: string;

  constructor(database: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.database = database;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    // Thrown values can be anything, a Proxy whose traps throw included; a
    // type check must answer, never throw in the middle of error handling.
    try {
      if (!(BRAND in value)) return false;
      // `this` is the class `instanceof` was asked about.
      if (this === DatabaseError) return true;
      return (value as unknown as DatabaseError).code === (this as unknown as { CODE: ErrorCode }).CODE;
    } catch {
      return false;
    }
  }
}

/**
 * A setting is missing or malformed, or the server rejected it (wrong
 * password, unknown database, TLS refused). Fix the configuration; retrying
 * soon will not help. Answered 500 with `database_misconfigured`.
 */
export class DatabaseConfigError extends DatabaseError {
  static readonly CODE = "DATABASE_CONFIG" as const;
  readonly code = DatabaseConfigError.CODE;
  readonly status = 500;
  /**
   * The option at fault, for example `connectionString` or `max`; for a
   * rejection by the server, what it rejected: `credentials`, `database`, `tls`.
   */
  readonly setting: string;

  constructor(database: string, setting: string, message: string, options?: { cause?: unknown }) {
    super(database, `next-db-connect: ${message}`, options);
    this.name = "DatabaseConfigError";
    this.setting = setting;
  }
}

/** Why a request gets a 503: see `Failure` (src/failure.ts). */
export type UnavailableReason = "unreachable" | "saturated" | "closed";

/**
 * The database cannot serve this request right now. Answer 503.
 *
 * `reason` says why: `unreachable` (connect failed, the pool lost its server,
 * or a cooldown after a failure is still running), `saturated` (no pooled
 * connection came free in time, or the server's connection limit: the database
 * is up), `closed` (the pool was closed, or the process is shutting down).
 */
export class DatabaseUnavailableError extends DatabaseError {
  static readonly CODE = "DATABASE_UNAVAILABLE" as const;
  readonly code = DatabaseUnavailableError.CODE;
  readonly status = 503;
  /** Seconds until a retry makes sense, for the `Retry-After` header. */
  readonly retryAfter: number;
  readonly reason: UnavailableReason;

  constructor(
    database: string,
    message: string,
    retryAfter: number,
    options?: { cause?: unknown; reason?: UnavailableReason },
  ) {
    super(database, `next-db-connect: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DatabaseUnavailableError";
    this.retryAfter = retryAfter;
    this.reason = options?.reason ?? "unreachable";
  }
}

/** Used where a database driver cannot run, such as the Edge runtime. */
export class DatabaseRuntimeError extends DatabaseError {
  static readonly CODE = "DATABASE_RUNTIME" as const;
  readonly code = DatabaseRuntimeError.CODE;
  readonly status = 500;

  constructor(database: string, message: string) {
    super(database, `next-db-connect: ${message}`);
    this.name = "DatabaseRuntimeError";
  }
}

export function isDatabaseUnavailableError(err: unknown): err is DatabaseUnavailableError {
  return err instanceof DatabaseUnavailableError;
}
