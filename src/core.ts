import { clientPromise } from "./client-promise.js";
import { Definition } from "./definition.js";
import { health } from "./health.js";
import type { Lifecycle } from "./lifecycle.js";
import type { DatabaseOptions } from "./options.js";
import { lifecycleFor } from "./registry.js";
import { RequestCore } from "./request.js";
import type { AnyAdapter, DatabaseStats, HealthReport } from "./types.js";

/**
 * Everything a database is, without any router: the definition, the shared
 * lifecycle, the request path, and the methods of the public handle that need
 * no request. The router layer (`middleware/`) builds its faces on this.
 */
export interface Core<TClient, TDb, TTx> {
  readonly def: Definition;
  readonly lifecycle: Lifecycle;
  readonly requests: RequestCore;
  connect(): Promise<{ client: TClient; db: TDb }>;
  clientPromise(): Promise<TClient>;
  close(): Promise<void>;
  stats(): DatabaseStats;
  health(options?: { timeoutMs?: number }): Promise<HealthReport>;
  /** Set when the adapter supports transactions. */
  transaction: (<T>(fn: (tx: TTx) => Promise<T>) => Promise<T>) | undefined;
}

/**
 * Defines a database. Never connects and never throws: the first use
 * validates the configuration and opens the pool, once per process and name,
 * however many bundles or hot reloads evaluate this call.
 */
export function createCore<TClient, TDb, TTx>(adapter: AnyAdapter, options: DatabaseOptions<TClient, TDb> | undefined): Core<TClient, TDb, TTx> {
  const def = new Definition(adapter, options);
  const lifecycle = lifecycleFor(def.name);
  const supportsTransactions = typeof (adapter as AnyAdapter | undefined)?.transaction === "function";
  return {
    def,
    lifecycle,
    requests: new RequestCore(def, lifecycle),
    async connect() {
      const pool = await lifecycle.acquire(def);
      return { client: pool.client as TClient, db: def.dbOf(pool) as TDb };
    },
    clientPromise: () => clientPromise<TClient>(def, lifecycle),
    close: () => lifecycle.close(),
    stats: () => lifecycle.stats(def.kind),
    health: (opts) => health(def, lifecycle, opts),
    transaction: supportsTransactions
      ? async <T>(fn: (tx: TTx) => Promise<T>): Promise<T> => {
          const pool = await lifecycle.acquire(def);
          return pool.adapter.transaction!(pool.client, fn) as Promise<T>;
        }
      : undefined,
  };
}
