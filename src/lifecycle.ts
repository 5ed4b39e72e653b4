import { checkConnectionBudget } from "./connection-budget.js";
import { cooldownFor, retryAfterSeconds } from "./cooldown.js";
import { TimeoutError, withDeadline } from "./deadline.js";
import type { Definition } from "./definition.js";
import { DatabaseConfigError, DatabaseUnavailableError } from "./errors.js";
import type { SafeLogger } from "./logger.js";
import { describeError, sanitizeError } from "./redact.js";
import { assertNodeRuntime } from "./runtime.js";
import { refuseIfShutDown } from "./shutdown.js";
import type { AnyAdapter, DatabaseStats, LifecycleState, PoolStats } from "./types.js";

/** An open pool and what requests need from it. */
export interface Connection {
  readonly client: unknown;
  readonly db: unknown;
  readonly adapter: AnyAdapter;
  readonly fingerprint: string;
  readonly log: SafeLogger;
  readonly connectedAt: number;
  readonly closeTimeoutMs: number;
}

/**
 * The life of one named database in this process: idle → connecting →
 * connected, with a cooldown ("unavailable") after failures. One instance per
 * name lives in the registry on globalThis and outlives hot reloads.
 *
 * - Single flight: concurrent callers share one connect (or recovery probe).
 * - No poisoned cache: a failed connect is forgotten; during the cooldown that
 *   follows, callers fail fast with 503; after it, the next caller tries again.
 * - A request that hits a connection error makes the pool suspect: the next
 *   callers wait on one ping instead of each failing on its own.
 * - A changed fingerprint (new config in dev) closes the old pool first.
 */
export class Lifecycle {
  state: LifecycleState = "idle";
  connection: Connection | null = null;
  /** 0 when there is no cooldown; otherwise when the next attempt may run. */
  retryAt = 0;
  connects = 0;
  failures = 0;
  consecutiveFailures = 0;
  leaksReleased = 0;
  lastError: DatabaseStats["lastError"] = null;
  private pending: Promise<Connection> | null = null;
  private pendingFingerprint: string | undefined;
  private closing: Promise<void> | null = null;

  constructor(readonly name: string) {}

  /** The hot path: a connected pool is returned without a promise. */
  acquire(def: Definition): Connection | Promise<Connection> {
    const c = this.connection;
    if (c !== null && this.retryAt === 0 && c.fingerprint === def.fingerprint) return c;
    return this.acquireSlow(def);
  }

  private async acquireSlow(def: Definition): Promise<Connection> {
    assertNodeRuntime(this.name);
    await def.prepare();
    for (;;) {
      refuseIfShutDown(this.name);
      if (this.closing) {
        await this.closing;
        continue;
      }
      if (this.pending) {
        if (this.pendingFingerprint === def.fingerprint) return this.pending;
        // Another definition is connecting with another config: let it finish, then replace.
        await this.pending.catch(noop);
        continue;
      }
      const c = this.connection;
      if (c && c.fingerprint !== def.fingerprint) {
        if (c.adapter.kind !== def.adapter.kind) {
          // Legitimate when a dev edit swaps the driver; otherwise two databases
          // share a name and would keep replacing each other's pool.
          def.log.warn(
            `the name "${this.name}" is used by two different databases (${c.adapter.kind} and ${def.adapter.kind}); ` +
              `give each createDatabase() its own \`name\` option`,
          );
        }
        return this.fly(def, async () => {
          c.log.info("configuration changed; closing the old pool before opening a new one");
          await this.closeConnection(c);
          return this.open(def);
        });
      }
      if (this.retryAt !== 0) {
        const wait = this.retryAt - Date.now();
        if (wait > 0) throw this.unavailable(wait);
        return this.fly(def, () => (c ? this.probe(def, c) : this.open(def)));
      }
      if (c) return c;
      return this.fly(def, () => this.open(def));
    }
  }

  /** Runs one connect or probe that every concurrent caller shares. */
  private fly(def: Definition, work: () => Promise<Connection>): Promise<Connection> {
    const flight: Promise<Connection> = work().finally(() => {
      if (this.pending === flight) {
        this.pending = null;
        this.pendingFingerprint = undefined;
      }
    });
    this.pending = flight;
    this.pendingFingerprint = def.fingerprint;
    return flight;
  }

  private async open(def: Definition): Promise<Connection> {
    const { adapter, options, log } = def;
    this.state = "connecting";
    const attempt = (async () => {
      const client = await adapter.connect({ name: this.name, log });
      try {
        // On the connection the connect just verified, before any request can
        // take a second one; bounded by its own short deadline, never fatal.
        await checkConnectionBudget(adapter, client, options, log);
        const db = adapter.db(client);
        if (options.onConnect) await options.onConnect({ name: this.name, client, db });
        return { client, db };
      } catch (err) {
        await adapter.close(client).catch(noop);
        throw err;
      }
    })();
    try {
      const { client, db } = await withDeadline(attempt, options.connectTimeoutMs, "connect", (late) => {
        // Nobody waits for this pool any more; close it rather than leak it.
        adapter.close(late.client).catch(noop);
      });
      const connection: Connection = {
        client, db, adapter, log,
        fingerprint: def.fingerprint as string,
        connectedAt: Date.now(),
        closeTimeoutMs: options.closeTimeoutMs,
      };
      this.connection = connection;
      this.state = "connected";
      this.connects++;
      this.consecutiveFailures = 0;
      this.retryAt = 0;
      log.info(`connected (${adapter.kind})`);
      return connection;
    } catch (err) {
      if (err instanceof DatabaseConfigError) {
        this.state = "idle";
        throw err;
      }
      this.recordFailure(def, err, "connect failed");
      throw this.unavailable(this.retryAt - Date.now(), sanitizeError(err, def.redact));
    }
  }

  /** After a cooldown with a pool still open: one ping decides. */
  private async probe(def: Definition, c: Connection): Promise<Connection> {
    try {
      const timeoutMs = def.options.healthTimeoutMs;
      await withDeadline(Promise.resolve(c.adapter.ping?.(c.client, timeoutMs)), timeoutMs, "ping");
    } catch (err) {
      this.recordFailure(def, err, "database still unreachable");
      throw this.unavailable(this.retryAt - Date.now(), sanitizeError(err, def.redact));
    }
    if (this.consecutiveFailures > 0) c.log.info("database reachable again");
    this.state = "connected";
    this.consecutiveFailures = 0;
    this.retryAt = 0;
    return c;
  }

  /**
   * Called with any error a request or health check ran into. True when the
   * adapter says it means "database unreachable"; the pool is then marked
   * suspect, so that the next caller runs a probe (which the others share)
   * instead of every request finding out on its own.
   */
  suspect(err: unknown, def: Definition): boolean {
    let unreachable = false;
    try {
      unreachable = def.adapter.isUnavailableError?.(err) === true;
    } catch {
      // A throwing classifier must not turn one failed request into two.
    }
    if (!unreachable) return false;
    if (this.connection === null || this.retryAt !== 0 || this.pending) return true;
    const { message, code } = describeError(err, def.redact);
    def.log.warn(`a request lost its database connection (${code ?? "error"}: ${message}); checking the database`);
    this.retryAt = Date.now();
    return true;
  }

  private recordFailure(def: Definition, err: unknown, what: string): void {
    const { message, code } = describeError(err, def.redact);
    this.failures++;
    this.consecutiveFailures++;
    const wait = cooldownFor(this.consecutiveFailures, def.options);
    this.retryAt = Date.now() + wait;
    this.state = "unavailable";
    this.lastError = { message, ...(code !== undefined ? { code } : {}), at: new Date().toISOString() };
    def.log.error(`${what} (${code ?? "error"}: ${message}); requests get 503 for the next ${retryAfterSeconds(wait)} s`);
  }

  private unavailable(waitMs: number, cause?: Error): DatabaseUnavailableError {
    const reason = this.lastError ? ` (${this.lastError.message})` : "";
    return new DatabaseUnavailableError(
      this.name,
      `database "${this.name}" is unavailable${reason}; next attempt in ${retryAfterSeconds(waitMs)} s`,
      retryAfterSeconds(waitMs),
      cause ? { cause } : undefined,
    );
  }

  /** Ends every connection of the pool. Idempotent; the next use connects again. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const closing: Promise<void> = (async () => {
      try {
        if (this.pending) await this.pending.catch(noop);
        const c = this.connection;
        if (c) {
          this.state = "closing";
          await this.closeConnection(c);
          c.log.info("closed");
        }
      } finally {
        this.state = "idle";
        this.retryAt = 0;
        this.consecutiveFailures = 0;
      }
    })().finally(() => {
      // Cleared here, asynchronously, and only if still ours. With nothing to
      // close, the body above completes synchronously: clearing `closing`
      // inside it ran *before* the assignment below, which then left a settled
      // promise in `closing` for good, and every later acquire spun forever on
      // `await this.closing` (a hung process after close() of an idle database).
      if (this.closing === closing) this.closing = null;
    });
    this.closing = closing;
    return closing;
  }

  private async closeConnection(c: Connection): Promise<void> {
    if (this.connection === c) this.connection = null;
    try {
      // pg's pool.end() waits for every checked-out client; one leaked outside
      // a request would otherwise hold close(), and a shutdown, forever.
      await withDeadline(c.adapter.close(c.client), c.closeTimeoutMs, "close");
    } catch (err) {
      const { message } = describeError(err, (s) => s);
      c.log.warn(
        err instanceof TimeoutError
          ? `close() gave up waiting after ${c.closeTimeoutMs} ms: connections are still checked out; they close when released`
          : `closing the pool failed: ${message}`,
      );
    }
  }

  /** `kind` names the asking definition's adapter while no pool is open. */
  stats(kind: string): DatabaseStats {
    const c = this.connection;
    const now = Date.now();
    return {
      name: this.name,
      kind: c?.adapter.kind ?? kind,
      state: this.state,
      connects: this.connects,
      failures: this.failures,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      retryAt: this.retryAt > now ? new Date(this.retryAt).toISOString() : null,
      connectedAt: c ? new Date(c.connectedAt).toISOString() : null,
      leaksReleased: this.leaksReleased,
      pool: c ? poolStats(c) : null,
    };
  }
}

function poolStats(c: Connection): PoolStats {
  let raw: Partial<PoolStats> = {};
  try {
    raw = c.adapter.stats?.(c.client) ?? {};
  } catch {
    // Stats are best effort; a driver change must not break a status page.
  }
  const open = raw.open ?? null;
  const idle = raw.idle ?? null;
  const inUse = raw.inUse ?? (open !== null && idle !== null ? open - idle : null);
  return { open, idle, inUse, waiting: raw.waiting ?? null, max: raw.max ?? null };
}

function noop(): void {}
