import { explain, rejectedSetting } from "./cause.js";
import { platformAttach } from "./platform/vercel.js";
import { classify } from "./classify.js";
import { checkConnectionBudgetWhenIdle } from "./connection-budget.js";
import { cooldownFor, retryAfterSeconds } from "./cooldown.js";
import { AbortedError, TimeoutError, withDeadline } from "./deadline.js";
import type { Definition } from "./definition.js";
import { DatabaseConfigError, DatabaseUnavailableError, type UnavailableReason } from "./errors.js";
import type { Failure, Verdict } from "./failure.js";
import { describeError, sanitizeError } from "./redact.js";
import { pauses, processState } from "./registry.js";
import { assertNodeRuntime } from "./runtime.js";
import type { AnyAdapter, ConnectContext, DatabaseStats, LifecycleState, PoolStats } from "./types.js";

/** An open pool and what requests need from it. */
export interface OpenPool {
  readonly client: unknown;
  readonly db: unknown;
  readonly adapter: AnyAdapter;
  readonly fingerprint: string;
  /** The definition that opened it: its options and logger serve the pool's own events. */
  readonly def: Definition;
  readonly connectedAt: number;
}

type CheckOutcome = { failure: null; busy: boolean } | { failure: Failure; error: unknown };

/** A connect, a probe or a replacement that every concurrent caller shares. */
interface Flight {
  readonly fingerprint: string;
  readonly promise: Promise<OpenPool>;
  readonly abort: AbortController;
}

/** Why requests fail fast until `until`, without touching the database. */
interface Block {
  readonly until: number;
  readonly by: "unreachable" | "misconfigured";
  /** What a misconfigured block answers; unreachable ones build a 503 with the time left. */
  readonly error: DatabaseConfigError | null;
}

/** How long after a pause a server lost by the driver's monitor is doubted (one probe) rather than blocked. */
const THAWED_MONITOR_MS = 30_000;

/** Extra time the core gives an adapter's own ping bound, which knows whether it waited for a connection or for the server. */
const PING_GRACE_MS = 250;

/**
 * The life of one named database in this process. One instance per name lives
 * in the process state on globalThis and outlives hot reloads.
 *
 * Its state is the fields that drive its decisions:
 * - `pool`: the open pool, or null;
 * - `flight`: the connect, probe or replacement running now; callers share it;
 * - `block`: a cooldown after the database could not be reached, or a longer
 *   hold after it rejected the configuration; callers fail fast until it ends;
 * - `doubt`: the pool is open but something said the database may be gone; the
 *   next caller (or the observer itself) runs one probe that settles it;
 * - `closing`: `close()` is running.
 *
 * Saturation (no free connection, server connection limit) changes none of
 * them: a busy database is up.
 */
export class Lifecycle {
  private pool: OpenPool | null = null;
  private flight: Flight | null = null;
  private block: Block | null = null;
  private doubt = false;
  private closing: Promise<void> | null = null;
  /**
   * Fingerprints whose pool was replaced, with the newest definition serial
   * when it happened. A definition evaluated by then still asking for its old
   * configuration is a second database under the same name, not a dev edit
   * (an edit is evaluated after): it is refused instead of closing the
   * other's pool. Each Next.js bundle evaluates every definition once, so
   * with two databases under one name this settles after one replacement per
   * bundle at most, instead of thrashing.
   */
  private readonly superseded = new Map<string, number>();
  /** Definitions already warned about a name conflict: one warning each, not one per request. */
  private readonly warned = new WeakSet<Definition>();
  private readonly counts = { connects: 0, failures: 0, consecutiveFailures: 0, saturated: 0, leaksReleased: 0 };
  private lastError: DatabaseStats["lastError"] = null;
  private lost = 0;
  /** The connection-budget reading of the open pool, waiting for an idle connection in the background after its connect. */
  private budgetCheck: ReturnType<typeof checkConnectionBudgetWhenIdle> | null = null;

  constructor(readonly name: string) {}

  /**
   * Pooled connections the driver discarded as broken (`connectionLost()`),
   * ever: a request compares the count at its start and at its failure.
   */
  get lostConnections(): number {
    return this.lost;
  }

  /** The open pool, if any, whatever its state (for classifying an error after the request). */
  get current(): OpenPool | null {
    return this.pool;
  }

  /** The hot path: a healthy pool is returned without a promise. */
  acquire(def: Definition): OpenPool | Promise<OpenPool> {
    // After a thaw the first request may run before the pause watch's late
    // tick: it looks itself, so idle connections that may have died during the
    // freeze are dropped before this request can be handed one.
    pauses().check();
    const p = this.pool;
    if (p !== null && !this.doubt && this.block === null && p.fingerprint === def.fingerprint) return p;
    return this.acquireSlow(def);
  }

  private async acquireSlow(def: Definition): Promise<OpenPool> {
    assertNodeRuntime(this.name);
    await def.prepare();
    const fingerprint = def.fingerprint as string;
    for (;;) {
      if (processState().shutdown.closed) throw this.unavailable(1000, "closed");
      if (this.closing) {
        await this.closing;
        continue;
      }
      this.refuseIfSuperseded(def);
      const flight = this.flight;
      if (flight) {
        if (flight.fingerprint === fingerprint) return flight.promise;
        // Another configuration is connecting: let it finish, then decide.
        await flight.promise.catch(noop);
        continue;
      }
      const p = this.pool;
      if (p && p.fingerprint !== fingerprint) {
        // An edit is evaluated after what it edits: a definition older than the
        // one whose pool is open, asking for another configuration, is a second database.
        if (def.serial < p.def.serial) throw this.conflict(def, p.def);
        return this.fly(fingerprint, (signal) => this.replace(def, p, signal));
      }
      const block = this.block;
      if (block) {
        const wait = block.until - Date.now();
        if (wait > 0) throw block.error ?? this.unavailable(wait, "unreachable");
        return this.fly(fingerprint, (signal) => (p ? this.probe(p) : this.open(def, signal)));
      }
      if (p && this.doubt) return this.fly(fingerprint, () => this.probe(p));
      if (p) return p;
      return this.fly(fingerprint, (signal) => this.open(def, signal));
    }
  }

  private fly(fingerprint: string, work: (signal: AbortSignal) => Promise<OpenPool>): Promise<OpenPool> {
    const abort = new AbortController();
    const promise: Promise<OpenPool> = work(abort.signal).finally(() => {
      if (this.flight?.promise === promise) this.flight = null;
    });
    this.flight = { fingerprint, promise, abort };
    return promise;
  }

  private refuseIfSuperseded(def: Definition): void {
    const replacedAt = this.superseded.get(def.fingerprint as string);
    if (replacedAt === undefined || def.serial > replacedAt) return;
    throw this.conflict(def, this.pool?.def);
  }

  /** The error a second database under this name gets, with a warning the first time. */
  private conflict(def: Definition, other: Definition | undefined): DatabaseConfigError {
    const otherLabel = other === undefined
      ? "another configuration"
      : other.label === def.label ? `another configuration of ${other.label}` : other.label;
    const message =
      `two different databases use the name "${this.name}": ${def.label} and ${otherLabel} (or a module that was not ` +
      `reloaded after an edit still holds the old configuration). Each would keep closing the other's pool. ` +
      `Give each createDatabase() its own \`name\` option, for example { name: "${suggestName(def, other)}" }.`;
    if (!this.warned.has(def)) {
      this.warned.add(def);
      def.log.warn(`${message} Requests through this definition get this error until then.`);
    }
    return new DatabaseConfigError(this.name, "name", message);
  }

  /** A new configuration for this name (a dev edit): the old pool is closed before the new one opens. */
  private async replace(def: Definition, old: OpenPool, signal: AbortSignal): Promise<OpenPool> {
    this.superseded.set(old.fingerprint, processState().definitions);
    this.superseded.delete(def.fingerprint as string);
    if (old.def.label !== def.label) {
      def.log.warn(`the name "${this.name}" now holds ${def.label} instead of ${old.def.label}; closing the old pool`);
    } else {
      old.def.log.info("configuration changed; closing the old pool before opening a new one");
    }
    this.pool = null;
    this.block = null;
    this.doubt = false;
    await closePool(old);
    return this.open(def, signal);
  }

  private async open(def: Definition, signal: AbortSignal): Promise<OpenPool> {
    const { adapter, options, log } = def;
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop, { once: true });
    let opened: OpenPool | null = null;
    let lastReport: unknown;
    const ctx: ConnectContext = {
      name: this.name,
      log,
      signal: attempt.signal,
      acquireTimeoutMs: options.acquireTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      // Events of a pool that is no longer this name's (replaced, closed) change nothing.
      report: (verdict, err) => {
        if (opened === null) lastReport = err;
        else if (this.pool === opened) this.observe(verdict, err);
      },
      serverState: (up, cause) => {
        if (opened === null) lastReport = cause ?? lastReport;
        else if (this.pool === opened) this.learn(up, cause);
      },
      connectionLost: () => {
        if (opened !== null && this.pool === opened) this.lost++;
      },
    };
    const work = (async () => {
      // Loaded beside the driver's connect, not after it.
      const attach = platformAttach(options.attachDatabasePool, log);
      const client = await adapter.connect(ctx);
      try {
        const db = adapter.db(client);
        if (options.onConnect) await options.onConnect({ name: this.name, client, db });
        // Before any request can release a connection: each release is what tells the platform.
        (await attach)?.(adapter.kind, client);
        return { client, db };
      } catch (err) {
        await adapter.close(client).catch(noop);
        throw err;
      }
    })();
    try {
      const { client, db } = await withDeadline(work, options.connectTimeoutMs, "connect", {
        signal,
        // Nobody waits for this attempt any more: stop its sockets, and close a pool that still arrives.
        onTimeout: stop,
        onLate: (late) => void adapter.close(late.client).catch(noop),
        detail: () => (lastReport === undefined ? "" : ` (the driver last said: ${explain(lastReport, def.redact)})`),
      });
      opened = { client, db, adapter, fingerprint: def.fingerprint as string, def, connectedAt: Date.now() };
      this.pool = opened;
      this.block = null;
      this.doubt = false;
      this.counts.connects++;
      this.counts.consecutiveFailures = 0;
      log.info(`connected (${def.label})`);
      // Advice, not a gate: it reads the server's limits after the pool is
      // handed out, on a connection the pool holds idle, so the first requests
      // neither wait for its query nor make the pool open one more connection
      // for it. Bounded by its own deadline, never fatal.
      const pool = opened;
      this.budgetCheck = checkConnectionBudgetWhenIdle(adapter, client, options, log, () => hasIdleConnection(pool));
      return opened;
    } catch (err) {
      if (err instanceof AbortedError) stop();
      throw this.connectFailed(def, err);
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }

  /** A failed connect, turned into what requests get. */
  private connectFailed(def: Definition, err: unknown): Error {
    // A setting the driver itself rejects (a malformed URL) never connects: no cooldown, no retry loop.
    if (err instanceof DatabaseConfigError) return err;
    const verdict = err instanceof AbortedError ? "closed" : connectVerdict(err, def.adapter);
    if (verdict === "closed") return this.unavailable(1000, "closed", err, def);
    if (verdict === "saturated") {
      // The server is up and full (its own limit, or a pooler in front of it found no server
      // connection in time): this request is refused, the next one tries again.
      def.log.warn(`connect refused: the database is saturated (${explain(err, def.redact)}); this request gets 503`);
      return this.unavailable(1000, "saturated", err, def);
    }
    if (verdict === "misconfigured") return this.blockMisconfigured(def, err, "the database rejected the connection");
    this.blockUnreachable(def, err, "connect failed");
    return this.unavailable(this.block!.until - Date.now(), "unreachable", err, def);
  }

  /** After a cooldown or a doubt, with a pool still open: one ping decides. */
  private async probe(p: OpenPool): Promise<OpenPool> {
    const outcome = await this.check(p, p.def.options.healthTimeoutMs);
    if (outcome.failure === null) {
      if (this.block !== null || this.counts.consecutiveFailures > 0) p.def.log.info("database reachable again");
      this.block = null;
      this.doubt = false;
      this.counts.consecutiveFailures = 0;
      return p;
    }
    const { failure, error } = outcome;
    if (failure === "misconfigured") throw this.blockMisconfigured(p.def, error, "the database rejected the connection");
    this.blockUnreachable(p.def, error, "database still unreachable");
    throw this.unavailable(this.block!.until - Date.now(), "unreachable", error, p.def);
  }

  /**
   * One ping within `timeoutMs`. `busy` when no pooled connection came free in
   * time and the server answers outside the pool: a full pool under load is a
   * busy database, not a down one. A full pool alone is not evidence enough:
   * in a network partition every pooled connection waits on a reply that never
   * comes, and the pool looks exactly as busy. So the ping gets half the time,
   * and a busy answer is checked on a connection outside the pool
   * (`Adapter.reachable`) with the other half.
   */
  async check(p: OpenPool, timeoutMs: number): Promise<CheckOutcome> {
    if (typeof p.adapter.ping !== "function") return { failure: null, busy: false };
    const askOutside = typeof p.adapter.reachable === "function";
    const pingMs = askOutside ? Math.max(1, Math.floor(timeoutMs / 2)) : timeoutMs;
    const started = Date.now();
    const outcome = await this.roundTrip(p, (ms) => p.adapter.ping!(p.client, ms), pingMs, true);
    if (!askOutside || outcome.failure !== null || !outcome.busy) return outcome;
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const outside = await this.roundTrip(p, (ms) => p.adapter.reachable!(p.client, ms), left, false);
    // It answered outside the pool: up, and the pool is busy.
    return outside.failure === null ? { failure: null, busy: true } : outside;
  }

  private async roundTrip(p: OpenPool, run: (ms: number) => unknown, ms: number, throughPool: boolean): Promise<CheckOutcome> {
    try {
      await withDeadline(Promise.resolve().then(() => run(ms)), ms + PING_GRACE_MS, "ping");
      return { failure: null, busy: false };
    } catch (error) {
      const verdict: Verdict = error instanceof TimeoutError
        ? (throughPool && poolIsFull(p) ? "saturated" : "unreachable")
        : classify(error, p.adapter, p.client);
      if (verdict === "saturated") return { failure: null, busy: true };
      // The server answered, with an error of its own: it is reachable.
      if (verdict === "app") return { failure: null, busy: false };
      return { failure: verdict ?? "unreachable", error };
    }
  }

  /**
   * Learns from an error the database's driver raised (a request's query, a
   * pool `error` event, a failed checkout). An `unreachable` one puts the pool
   * in doubt and starts one probe at once, so that requests starting from now
   * wait on it (and get 503 if it fails) instead of each finding out alone.
   */
  observe(verdict: Verdict, err: unknown): void {
    const p = this.pool;
    if (p === null) return;
    if (verdict === "misconfigured") {
      p.def.log.error(`the database rejected a new connection (${explain(err, p.def.redact)}); check the configuration`);
      return;
    }
    if (verdict !== "unreachable" || this.block !== null || this.doubt || this.flight !== null || this.closing !== null) return;
    this.doubt = true;
    p.def.log.warn(`the database may be unreachable (${explain(err, p.def.redact)}); checking it with one probe`);
    this.fly(p.fingerprint, () => this.probe(p)).catch(noop);
  }

  /** The driver's own monitor saw the server go or come back (MongoDB's server monitoring). */
  private learn(up: boolean, cause: unknown): void {
    const p = this.pool;
    if (p === null || this.closing !== null) return;
    if (!up) {
      // Just after a thaw, the monitor's own connection may have died during
      // the freeze: one probe (which makes the driver check again) decides,
      // rather than 503s for a cooldown while the database is up.
      if (this.block === null && pauses().pausedWithin(THAWED_MONITOR_MS)) return this.observe("unreachable", cause ?? new Error("the driver lost the server"));
      if (this.block === null) this.blockUnreachable(p.def, cause ?? new Error("the driver lost the server"), "the driver lost the server");
      this.doubt = false;
      return;
    }
    if (this.block?.by !== "unreachable" && !this.doubt) return;
    this.block = null;
    this.doubt = false;
    this.counts.consecutiveFailures = 0;
    p.def.log.info("database reachable again (the driver reconnected)");
  }

  private blockUnreachable(def: Definition, err: unknown, what: string): void {
    this.counts.failures++;
    this.counts.consecutiveFailures++;
    const wait = cooldownFor(this.counts.consecutiveFailures, def.options);
    this.block = { until: Date.now() + wait, by: "unreachable", error: null };
    this.remember(def, err, "unreachable");
    def.log.error(`${what} (${explain(err, def.redact)}); requests get 503 for the next ${retryAfterSeconds(wait)} s`);
  }

  /**
   * Wrong password, unknown database, TLS refused: a retry in a second will not
   * help, and "temporarily unavailable" would send the reader looking at the
   * wrong thing. Requests fail fast with the config error; one attempt per
   * `retry.maxCooldownMs` notices a fix (or a rotated secret) without a restart.
   */
  private blockMisconfigured(def: Definition, err: unknown, what: string): DatabaseConfigError {
    this.counts.failures++;
    this.counts.consecutiveFailures++;
    const wait = def.options.maxCooldownMs;
    const setting = rejectedSetting(err);
    const reason = explain(err, def.redact);
    const error = new DatabaseConfigError(
      this.name,
      setting,
      `${what} (${reason}): check the ${setting === "connection" ? "connection settings" : setting}. ` +
        `This is not an outage; the next attempt is in ${retryAfterSeconds(wait)} s.`,
      { cause: sanitizeError(err, def.redact) },
    );
    this.block = { until: Date.now() + wait, by: "misconfigured", error };
    this.remember(def, err, "misconfigured");
    def.log.error(`${what}: ${reason}. Check the ${setting} settings of ${def.label}; retrying in ${retryAfterSeconds(wait)} s`);
    return error;
  }

  private remember(def: Definition, err: unknown, kind: Failure): void {
    const { message, code } = describeError(err, def.redact);
    this.lastError = { message, ...(code !== undefined ? { code } : {}), kind, at: new Date().toISOString() };
  }

  private unavailable(waitMs: number, reason: UnavailableReason, cause?: unknown, def?: Definition): DatabaseUnavailableError {
    const seconds = retryAfterSeconds(waitMs);
    const why = reason === "saturated"
      ? "is at its connection limit"
      : reason === "closed"
        ? "is closed (close() or shutdown)"
        : `is unavailable${this.lastError ? ` (${this.lastError.message})` : ""}; next attempt in ${seconds} s`;
    return new DatabaseUnavailableError(this.name, `database "${this.name}" ${why}`, seconds, {
      reason,
      ...(cause !== undefined && def ? { cause: sanitizeError(cause, def.redact) } : {}),
    });
  }

  /** A request was answered 503 because the pool or the server was full. */
  countSaturated(): void {
    this.counts.saturated++;
  }

  /** The leak guard released a connection a request forgot. */
  countLeak(): void {
    this.counts.leaksReleased++;
  }

  /** Ends every connection of the pool; requests waiting for one fail at once. Idempotent; the next use connects again. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const closing: Promise<void> = (async () => {
      const flight = this.flight;
      if (flight) {
        flight.abort.abort();
        await flight.promise.catch(noop);
      }
      const p = this.pool;
      this.pool = null;
      this.block = null;
      this.doubt = false;
      this.counts.consecutiveFailures = 0;
      if (p) {
        // A reading still waiting for an idle connection is dropped; one already
        // running is let finish (bounded by connectionBudget.timeoutMs), so its
        // warning is not lost to a close right after the connect.
        const budget = this.budgetCheck;
        this.budgetCheck = null;
        if (budget) {
          if (hasIdleConnection(p)) budget.now();
          else budget.cancel();
          await budget.done;
        }
        await closePool(p);
        p.def.log.info("closed");
      }
    })().finally(() => {
      // Cleared asynchronously, and only if still ours: with nothing to close
      // the body completes at once, and clearing `closing` inside it would run
      // before the assignment below, leaving a settled promise here for good.
      if (this.closing === closing) this.closing = null;
    });
    this.closing = closing;
    return closing;
  }

  get state(): LifecycleState {
    if (this.closing) return "closing";
    if (this.block) return this.block.by === "misconfigured" ? "misconfigured" : "unavailable";
    if (this.flight) return this.pool ? "checking" : "connecting";
    if (this.doubt) return "checking";
    return this.pool ? "connected" : "idle";
  }

  /** `kind` names the asking definition's adapter while no pool is open. */
  stats(kind: string): DatabaseStats {
    const p = this.pool;
    const until = this.block?.until ?? 0;
    return {
      name: this.name,
      kind: p?.adapter.kind ?? kind,
      state: this.state,
      connects: this.counts.connects,
      failures: this.counts.failures,
      consecutiveFailures: this.counts.consecutiveFailures,
      saturated: this.counts.saturated,
      lastError: this.lastError,
      retryAt: until > Date.now() ? new Date(until).toISOString() : null,
      connectedAt: p ? new Date(p.connectedAt).toISOString() : null,
      leaksReleased: this.counts.leaksReleased,
      pool: p ? poolStats(p) : null,
    };
  }
}

/** What a failed connect means: the adapter says; a timeout or an unknown error counts as unreachable. */
function connectVerdict(err: unknown, adapter: AnyAdapter): Failure {
  if (err instanceof TimeoutError) return "unreachable";
  const verdict = classify(err, adapter, undefined);
  return verdict === null || verdict === "app" ? "unreachable" : verdict;
}

async function closePool(p: OpenPool): Promise<void> {
  const timeoutMs = p.def.options.closeTimeoutMs;
  try {
    // pg's pool.end() waits for every checked-out client; one leaked outside
    // a request would otherwise hold close(), and a shutdown, forever.
    await withDeadline(p.adapter.close(p.client), timeoutMs, "close");
  } catch (err) {
    const { message } = describeError(err, p.def.redact);
    p.def.log.warn(
      err instanceof TimeoutError
        ? `close() gave up waiting after ${timeoutMs} ms: connections are still checked out; they close when released`
        : `closing the pool failed: ${message}`,
    );
  }
}

function poolStats(p: OpenPool): PoolStats {
  let raw: Partial<PoolStats> = {};
  try {
    raw = p.adapter.stats?.(p.client) ?? {};
  } catch {
    // Stats are best effort; a driver change must not break a status page.
  }
  const open = raw.open ?? null;
  const idle = raw.idle ?? null;
  const inUse = raw.inUse ?? (open !== null && idle !== null ? open - idle : null);
  return { open, idle, inUse, waiting: raw.waiting ?? null, max: raw.max ?? null };
}

/** A connection free for a background query, without making the pool open one; `true` when the adapter cannot tell. */
function hasIdleConnection(p: OpenPool): boolean {
  const { idle, waiting } = poolStats(p);
  return idle === null || (idle > 0 && !(waiting !== null && waiting > 0));
}

/** Every connection in use (or requests already queued): a ping that timed out was waiting for one. */
function poolIsFull(p: OpenPool): boolean {
  const { inUse, waiting, max } = poolStats(p);
  return (waiting !== null && waiting > 0) || (inUse !== null && max !== null && inUse >= max);
}

/** A name to suggest for the second database: its database name, else its kind. */
function suggestName(def: Definition, other: Definition | undefined): string {
  const database = (d: Definition) => /\/([A-Za-z0-9_-]+)$/.exec(d.label)?.[1];
  const own = database(def);
  if (own === undefined) return `${def.kind}-2`;
  return other !== undefined && database(other) === own ? `${own}-2` : own;
}

function noop(): void {}
