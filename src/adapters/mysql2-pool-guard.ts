import type { Pool, PoolConnection } from "mysql2/promise";
import type { Failure } from "../failure.js";
import { pauses } from "../registry.js";
import { currentScope, type CheckoutOwner } from "../request-scope.js";
import type { ConnectContext } from "../types.js";
import { CheckoutWaiters, waitTimeout } from "./checkout-waiters.js";
import { LearnedCap } from "./learned-cap.js";
import { classifyMysql, isServerLimit } from "./mysql2-classify.js";
import { dropFreeOnThaw } from "./mysql2-thaw.js";
import type { RaisedErrors } from "./raised-errors.js";

type Callback = (err: Error | null, connection?: CoreConnection) => void;

/** The callback pool behind the promise wrapper: it has the events and the queues. */
export interface CorePool extends NodeJS.EventEmitter {
  config: { connectionLimit: number; queueLimit?: number };
  getConnection(cb: Callback): void;
  _allConnections?: { length: number; get?(i: number): CoreConnection };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number; get?(i: number): unknown; removeOne?(i: number): void };
  _closed?: boolean;
}

/** A pooled connection of the callback API, as the pool's 'connection' event passes it. */
interface CoreConnection extends NodeJS.EventEmitter {
  /** Set once the handshake and authentication completed. */
  authorized?: boolean;
  addCommand(cmd: { onResult?: (err: unknown, ...rest: unknown[]) => unknown }): unknown;
  destroy(): void;
  release(): void;
}

const GUARDED = Symbol("next-db-connect.guarded-callback");

export function corePool(pool: Pool): CorePool {
  return (pool as unknown as { pool: CorePool }).pool;
}

/** A checkout now would queue: no free connection, and the pool holds its `connectionLimit` (0: unlimited). */
export function checkoutQueues(core: CorePool): boolean {
  const limit = core.config.connectionLimit;
  return (core._freeConnections?.length ?? 0) === 0 && limit !== 0 && (core._allConnections?.length ?? 0) >= limit;
}

/**
 * Everything the package adds around a mysql2 pool, installed once when it is
 * created:
 * - every error its checkouts, commands and connections raise is recorded with
 *   its meaning (`RaisedErrors`) and reported to the lifecycle, at the callback
 *   layer (which Kysely and the promise API both use) and at the promise layer
 *   (older mysql2 3.x copies errors there);
 * - mysql2's queue has no time limit: a checkout that queues is bounded by
 *   `acquireTimeoutMs` and is then *saturated*; `close()` fails the queue at once;
 * - a server at its connection limit caps the pool at what it holds (`LearnedCap`);
 * - a connection whose query timed out is destroyed (its state is unknown);
 * - `await pool.getConnection()` inside a request is tracked for the leak guard;
 * - after the process was paused (frozen), free connections are dropped before use (`mysql2-thaw.ts`).
 */
export class Mysql2PoolGuard {
  readonly waiters = new CheckoutWaiters();
  private readonly core: CorePool;
  private readonly cap: LearnedCap;
  private readonly owner: CheckoutOwner;
  private readonly stopThawWatch: () => void;

  constructor(
    private readonly pool: Pool,
    private readonly ctx: ConnectContext,
    private readonly raised: RaisedErrors,
  ) {
    this.core = corePool(pool);
    this.cap = new LearnedCap(() => this.core.config.connectionLimit, (max) => (this.core.config.connectionLimit = max), ctx.log, isServerLimit);
    this.owner = { name: ctx.name, log: ctx.log };
    this.guardConnections();
    this.guardCheckout();
    this.guardPromiseLayer();
    this.stopThawWatch = dropFreeOnThaw(this.core, ctx);
    ctx.signal.addEventListener("abort", () => this.abandon(), { once: true });
  }

  note(err: unknown, verdict: Failure | "app"): void {
    if (this.raised.has(err)) return;
    this.raised.mark(this.pool, err, verdict);
    if (verdict !== "app") this.ctx.report(verdict, err);
  }

  private guardConnections(): void {
    const { core, ctx } = this;
    core.on("connection", (connection: CoreConnection) => {
      this.cap.admit(this.established());
      // mysql2's pool removes a failed connection on its first 'error' only; a
      // listener of our own keeps any later one from becoming an uncaught event.
      connection.on("error", (err: Error & { code?: string }) => {
        this.note(err, classifyMysql(err, "command"));
        ctx.log.warn(`a pooled connection failed (${err.code ?? "error"}: ${err.message}); the pool discarded it`);
      });
      this.guardCommands(connection);
    });
  }

  /**
   * Every command's result on a pooled connection. When a query's `timeout`
   * fires, mysql2 answers the caller but leaves the command on the connection,
   * waiting for a reply that may never come (a network partition): the pool
   * counts that connection as checked out until the socket dies, which can take
   * minutes, and a few timeouts exhaust the pool. Its state is unknown anyway:
   * destroy it, so the pool frees its slot and opens a fresh one when needed.
   */
  private guardCommands(connection: CoreConnection): void {
    const addCommand = connection.addCommand;
    if (typeof addCommand !== "function") return;
    const guard = this;
    connection.addCommand = function addGuardedCommand(cmd) {
      const onResult = cmd?.onResult;
      if (typeof onResult === "function") {
        cmd.onResult = function (this: unknown, err: unknown, ...rest: unknown[]) {
          if (err) {
            guard.note(err, classifyMysql(err, "command"));
            if ((err as { code?: unknown }).code === "PROTOCOL_SEQUENCE_TIMEOUT") {
              guard.ctx.log.warn("a query timed out; its connection is in an unknown state and was destroyed");
              connection.destroy();
            }
          }
          return onResult.call(this, err, ...rest);
        };
      }
      return addCommand.call(this, cmd);
    };
  }

  /** The callback pool's checkout: the promise API, `pool.query` and Kysely all come through it. */
  private guardCheckout(): void {
    const core = this.core;
    const raw = core.getConnection.bind(core);
    const guard = this;
    core.getConnection = function guardedGetConnection(cb: Callback) {
      // mysql2 re-queues a waiting callback through getConnection: it is already bounded.
      if ((cb as { [GUARDED]?: true })[GUARDED]) return raw(cb);
      guard.checkout(raw, cb, true);
    };
  }

  private checkout(raw: (cb: Callback) => void, deliver: Callback, mayRetry: boolean): void {
    // A pool used directly (kept from connect(), outside any request) must not
    // hand out a free connection that died during a freeze either.
    pauses().check();
    const core = this.core;
    const waits = checkoutQueues(core);
    let probing = false;
    let settled = false;
    const settle = (err: Error) => {
      if (settled) return;
      settled = true;
      forget();
      if (timer) clearTimeout(timer);
      removeFromQueue(core, ours);
      deliver(err);
    };
    const forget = waits ? this.waiters.add((err) => {
      this.raised.mark(this.pool, err, "closed");
      settle(err);
    }) : noop;
    const timeoutMs = this.ctx.acquireTimeoutMs;
    const timer = waits
      ? setTimeout(() => {
          const err = waitTimeout(this.ctx.name, timeoutMs);
          this.note(err, "saturated");
          settle(err);
        }, timeoutMs)
      : null;
    timer?.unref?.();
    const ours: Callback = (err, connection) => {
      if (probing) this.cap.probed(err, this.established());
      if (settled) {
        // Served after the wait was given up: nobody wants this connection.
        connection?.release();
        return;
      }
      settled = true;
      forget();
      if (timer) clearTimeout(timer);
      if (!err) return deliver(null, connection);
      if (mayRetry && isServerLimit(err) && this.cap.capAt(this.established(), String((err as { code?: unknown }).code))) {
        // Nothing ran on the refused connection: waiting for one of ours is safe.
        return this.checkout(raw, deliver, false);
      }
      this.note(err, classifyMysql(err, "checkout"));
      deliver(err);
    };
    (ours as { [GUARDED]?: true })[GUARDED] = true;
    // Capped at a server limit: now and then one checkout opens one connection more.
    probing = waits && mayRetry && this.cap.probe(() => raw(ours));
    if (!probing) raw(ours);
  }

  /**
   * Connections that completed their handshake. mysql2's `_allConnections`
   * also holds connects still in flight, which the server refuses too when it
   * is at its limit: capping at them would leave room for more refusals.
   */
  private established(): number {
    const all = this.core._allConnections;
    let n = 0;
    for (let i = 0; all?.get && i < all.length; i++) if (all.get(i)?.authorized === true) n++;
    return n;
  }

  /** Errors the promise layer raises (older mysql2 3.x hands out copies), and checkouts for the leak guard. */
  private guardPromiseLayer(): void {
    const pool = this.pool;
    const note = (err: unknown) => this.note(err, classifyMysql(err, "command"));
    for (const method of ["query", "execute"] as const) {
      const original = pool[method].bind(pool) as (...args: unknown[]) => Promise<unknown>;
      (pool as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
        original(...args).then(undefined, (err: unknown) => {
          note(err);
          throw err;
        });
    }
    const getConnection = pool.getConnection.bind(pool);
    pool.getConnection = async () => {
      const scope = currentScope();
      let connection: PoolConnection;
      try {
        connection = await getConnection();
      } catch (err) {
        this.note(err, classifyMysql(err, "checkout"));
        throw err;
      }
      return scope === undefined ? connection : this.trackForLeakGuard(connection, scope);
    };
  }

  private trackForLeakGuard(connection: PoolConnection, scope: NonNullable<ReturnType<typeof currentScope>>): PoolConnection {
    const { release, destroy } = connection;
    // Destroying rather than releasing: a leaked connection may be mid-transaction.
    const untrack = scope.track(this.owner, () => destroy.call(connection));
    connection.release = () => {
      untrack();
      release.call(connection);
    };
    connection.destroy = () => {
      untrack();
      destroy.call(connection);
    };
    return connection;
  }

  /** The connect was given up: destroy every connection (those still connecting too), then end the pool. */
  private abandon(): void {
    const all = this.core._allConnections;
    for (let i = 0; all?.get && i < all.length; i++) all.get(i)?.destroy();
    this.close().catch(noop);
  }

  async close(): Promise<void> {
    this.stopThawWatch();
    this.cap.restore();
    this.waiters.failAll(this.ctx.name);
    if (!this.core._closed) await this.pool.end();
  }
}

/** Takes a given-up waiter out of mysql2's queue, so a freed connection goes to someone still waiting. */
function removeFromQueue(core: CorePool, cb: unknown): void {
  const queue = core._connectionQueue;
  if (!queue?.get || !queue.removeOne) return;
  for (let i = 0; i < queue.length; i++) {
    if (queue.get(i) === cb) return queue.removeOne(i);
  }
}

function noop(): void {}
