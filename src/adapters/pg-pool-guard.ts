import type { Pool, PoolClient } from "pg";
import type { Failure } from "../failure.js";
import { pauses } from "../registry.js";
import { currentScope, type CheckoutOwner, type RequestScope } from "../request-scope.js";
import type { ConnectContext } from "../types.js";
import { CheckoutWaiters, waitTimeout } from "./checkout-waiters.js";
import { LearnedCap } from "./learned-cap.js";
import { classifyPg, isServerLimit } from "./pg-classify.js";
import { dropIdleOnThaw } from "./pg-thaw.js";
import type { PoolerWatch } from "./pg-pooler.js";
import type { RaisedErrors } from "./raised-errors.js";

type Deliver = (err: Error | undefined, client?: PoolClient, release?: (err?: Error | boolean) => void) => void;
type RawConnect = (cb: Deliver) => void;

/** pg-pool internals read here; they have kept these names through pg-pool 3.x. */
interface PoolInternals {
  options: { max: number; connectionTimeoutMillis?: number };
  _clients?: Array<{ connection?: { stream?: { destroy(): void } } }>;
  _pendingQueue?: Array<{ callback: (err: Error) => void }>;
}

/** A checkout now would queue: pg-pool queues when it has no idle client and holds its maximum. */
export function checkoutQueues(pool: Pool): boolean {
  return pool.idleCount === 0 && pool.totalCount >= (pool as unknown as PoolInternals).options.max;
}

/**
 * Everything the package adds around a node-postgres pool, installed once when
 * it is created:
 * - every error its checkouts, queries and connections raise is recorded with
 *   its meaning (`RaisedErrors`) and reported to the lifecycle;
 * - a checkout that queues for a busy pool is bounded and, when it times out,
 *   is *saturated*, not a down database; `close()` fails the queue at once;
 * - a server at its connection limit caps the pool at what it holds (`LearnedCap`);
 * - `await pool.connect()` inside a request is tracked for the leak guard;
 * - after the process was paused (frozen), idle clients are dropped before use (`pg-thaw.ts`).
 */
export class PgPoolGuard {
  readonly waiters = new CheckoutWaiters();
  /**
   * Connections that completed their startup and have not ended. pg-pool's
   * `totalCount` also counts connects still in flight, which fail together
   * when the server is at its limit: capping at it would leave room for
   * connects that can only be refused again.
   */
  private readonly established = new Set<PoolClient>();
  /** Clients a caller holds: an idle client's error is the pool's 'error' event, logged once there. */
  private readonly checkedOut = new Set<PoolClient>();
  /**
   * Clients the package itself holds (the health probe, the budget reading).
   * When the server ends several idle connections at once, these may take one
   * whose 'error' has not been read yet: that connection died idle, and is
   * logged as such, not as a caller's connection failing under it.
   */
  private readonly heldByPackage = new Set<PoolClient>();
  private readonly cap: LearnedCap;
  private readonly owner: CheckoutOwner;
  private readonly stopThawWatch: () => void;

  constructor(
    private readonly pool: Pool,
    private readonly ctx: ConnectContext,
    private readonly raised: RaisedErrors,
    /** The pooler in front of the server, if any: what it breaks is refused or explained. */
    readonly pooler: PoolerWatch,
  ) {
    const internals = pool as unknown as PoolInternals;
    this.cap = new LearnedCap(() => internals.options.max, (max) => (internals.options.max = max), ctx.log, isServerLimit);
    this.owner = { name: ctx.name, log: ctx.log };
    this.guardEvents();
    this.guardConnect();
    this.stopThawWatch = dropIdleOnThaw(pool, ctx);
    ctx.signal.addEventListener("abort", () => this.abandon(), { once: true });
  }

  /** The package (the health probe) holds `client` until it releases it. */
  heldForPackage(client: PoolClient): void {
    this.heldByPackage.add(client);
  }

  /**
   * One query the package runs for itself, on a checkout of its own: the
   * callback form, so it is never counted against the request whose context
   * the connect (and so this reading) started in.
   */
  queryForPackage<R>(sql: string): Promise<R[]> {
    return new Promise((resolve, reject) => {
      this.pool.connect((err, client, release) => {
        if (err || !client) return reject(err);
        this.heldForPackage(client);
        client.query(sql).then(
          (result) => {
            release();
            resolve(result.rows as R[]);
          },
          (error: Error) => {
            release(error);
            reject(error);
          },
        );
      });
    });
  }

  private logIdleFailure(err: Error): void {
    this.ctx.log.error(`an idle connection failed (${codeOf(err)}: ${err.message}); the pool discarded it`);
  }

  private settleCheckout(client: PoolClient): void {
    this.checkedOut.delete(client);
    this.heldByPackage.delete(client);
  }

  /** Records and reports an error this pool raised. */
  note(err: unknown, verdict: Failure | "app" = classifyPg(err, false)): void {
    if (this.raised.has(err)) return;
    this.raised.mark(this.pool, err, verdict);
    if (verdict === "app") this.pooler.explain(err);
    if (verdict !== "app") this.ctx.report(verdict, err);
  }

  private guardEvents(): void {
    const { pool, ctx } = this;
    pool.on("error", (err) => {
      this.note(err);
      this.logIdleFailure(err);
    });
    pool.on("connect", (client) => {
      this.established.add(client);
      client.once("end", () => this.established.delete(client));
      this.cap.admit(this.established.size);
      // A checked-out client has no pool listener: without ours, its connection
      // dying between queries would be an uncaught 'error' event.
      client.on("error", (err) => {
        this.note(err);
        if (!this.checkedOut.has(client)) return;
        if (this.heldByPackage.has(client)) return this.logIdleFailure(err);
        ctx.log.warn(`a connection failed while checked out (${codeOf(err)}: ${err.message})`);
      });
      this.guardQuery(client);
    });
    pool.on("acquire", (client) => this.checkedOut.add(client));
    pool.on("release", (_err, client) => this.settleCheckout(client));
    pool.on("remove", (client) => this.settleCheckout(client));
  }

  /** Every query on every physical connection: `pool.query` and checked-out clients alike go through here. */
  private guardQuery(client: PoolClient): void {
    const query = client.query as (...args: unknown[]) => unknown;
    const note = (err: unknown) => this.note(err);
    // null unless the pool is declared behind a transaction-mode pooler.
    const check = this.pooler.queryCheck();
    (client as { query: unknown }).query = function guardedQuery(this: PoolClient, ...args: unknown[]) {
      const last = args.length - 1;
      const callback = args[last];
      if (check !== null) {
        const refusal = check(args[0]);
        if (refusal !== null) {
          note(refusal);
          if (typeof callback === "function") return void process.nextTick(() => callback(refusal));
          return Promise.reject(refusal);
        }
      }
      if (typeof callback === "function") {
        args[last] = function (this: unknown, err: unknown, ...rest: unknown[]) {
          if (err) note(err);
          return callback.call(this, err, ...rest);
        };
        return query.apply(this, args);
      }
      const result = query.apply(this, args);
      if (typeof (result as PromiseLike<unknown> | null)?.then !== "function") return result; // a Submittable (cursor, stream)
      return (result as Promise<unknown>).then(undefined, (err: unknown) => {
        note(err);
        throw err;
      });
    };
  }

  /**
   * `pool.connect()` in both its forms. pg-pool's own `query()` calls
   * `this.connect(cb)`, so pool queries take this path too.
   */
  private guardConnect(): void {
    const pool = this.pool;
    const raw = pool.connect.bind(pool) as unknown as RawConnect;
    const checkout = (deliver: Deliver) => this.checkout(raw, deliver, true);
    const track = (client: PoolClient, scope: RequestScope | undefined) => this.trackForLeakGuard(client, scope);
    (pool as { connect: unknown }).connect = function guardedConnect(callback?: Deliver) {
      if (typeof callback === "function") return void checkout(callback);
      // The request's scope is read now: the client arrives in whichever context released it.
      const scope = currentScope();
      return new Promise<PoolClient>((resolve, reject) =>
        checkout((err, client) => (err ? reject(err) : resolve(track(client!, scope)))),
      );
    };
  }

  private checkout(raw: RawConnect, deliver: Deliver, mayRetry: boolean): void {
    // A pool used directly (kept from connect(), outside any request) must not
    // hand out an idle client that died during a freeze either.
    pauses().check();
    const pool = this.pool;
    const waits = checkoutQueues(pool);
    let probing = false;
    let settled = false;
    const forget = waits
      ? this.waiters.add((err) => {
          if (settled) return;
          settled = true;
          this.raised.mark(pool, err, "closed");
          deliver(err);
        })
      : noop;
    const delivered: Deliver = (err, client, release) => {
      forget();
      if (probing) this.cap.probed(err, this.established.size);
      if (settled) {
        // Served after close() failed the waiter: nobody wants this client.
        release?.();
        return;
      }
      settled = true;
      if (!err) return deliver(undefined, client, release);
      if (mayRetry && isServerLimit(err) && this.cap.capAt(this.established.size, codeOf(err) === "53300" ? "53300" : `the pooler's: ${err.message}`)) {
        // Nothing ran on the refused connection: waiting for one of ours is safe.
        return this.checkout(raw, deliver, false);
      }
      // A probe opened a connection of its own: it did not wait in the queue.
      const queued = waits && !probing;
      const verdict = classifyPg(err, queued);
      const error = verdict === "saturated" && queued
        ? waitTimeout(this.ctx.name, (pool as unknown as PoolInternals).options.connectionTimeoutMillis ?? 0)
        : err;
      this.note(error, verdict);
      deliver(error);
    };
    // Capped at a server limit: now and then one checkout opens one connection more.
    probing = waits && mayRetry && this.cap.probe(() => raw(delivered));
    if (!probing) raw(delivered);
  }

  /**
   * Reports `await pool.connect()` checkouts made inside a request to its
   * scope, so the leak guard can release a client a handler forgot. The
   * callback form (used by `pool.query` itself, which always releases) is not tracked.
   */
  private trackForLeakGuard(client: PoolClient, scope: RequestScope | undefined): PoolClient {
    if (scope === undefined) return client;
    const release = client.release;
    // Destroying (release(true)) rather than returning it: a leaked client may be mid-transaction.
    const untrack = scope.track(this.owner, () => release.call(client, true));
    client.release = (err?: Error | boolean) => {
      untrack();
      return release.call(client, err);
    };
    return client;
  }

  /** The connect was given up: close the pool, and the sockets still connecting, which `end()` would wait for. */
  private abandon(): void {
    for (const client of (this.pool as unknown as PoolInternals)._clients ?? []) client.connection?.stream?.destroy();
    this.close().catch(noop);
  }

  async close(): Promise<void> {
    this.stopThawWatch();
    this.cap.restore();
    this.waiters.failAll(this.ctx.name);
    this.failQueued();
    if (!(this.pool as { ending?: boolean }).ending) await this.pool.end();
  }

  /**
   * pg-pool also queues a checkout when idle clients exist (they are handed
   * out on the next tick), and its `end()` leaves that queue waiting until
   * `connectionTimeoutMillis`: a request caught by a close in that tick would
   * wait 10 s for a 503 *saturated*. They get the `closed` 503 now.
   */
  private failQueued(): void {
    const queue = (this.pool as unknown as PoolInternals)._pendingQueue;
    if (!Array.isArray(queue) || queue.length === 0) return;
    const waiters = new CheckoutWaiters();
    for (const item of queue.splice(0)) {
      waiters.add((err) => {
        this.raised.mark(this.pool, err, "closed");
        item.callback(err);
      });
    }
    waiters.failAll(this.ctx.name);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}

function noop(): void {}
