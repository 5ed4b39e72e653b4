import { AsyncLocalStorage } from "node:async_hooks";
import { Lifecycle } from "./lifecycle.js";
import type { RequestScope } from "./request-scope.js";

/**
 * The one place state lives: `globalThis`, under a `Symbol.for` key.
 *
 * Every copy of this module sees the same registry: the copy re-evaluated by a
 * dev hot reload, the copies bundled separately into the Pages Router, the App
 * Router and instrumentation by `next build`, and the ESM and CJS builds of the
 * package. That is what makes "one pool per process" hold in production too,
 * where a `NODE_ENV`-guarded singleton still gives one pool per bundle.
 *
 * The key carries a layout version: a future release that changes the shape
 * of this object uses a new key instead of misreading an old one.
 */
const REGISTRY_KEY = Symbol.for("next-db-connect.registry.v1");

export interface Registry {
  /** One lifecycle per database name. */
  readonly databases: Map<string, Lifecycle>;
  /** Per-process key for config fingerprints (see fingerprint.ts). */
  readonly fingerprintKey: Uint8Array<ArrayBuffer>;
  /** Shared so a pool created by one bundle sees requests scoped by another. */
  readonly requestScope: AsyncLocalStorage<RequestScope>;
}

export function registry(): Registry {
  const holder = globalThis as { [REGISTRY_KEY]?: Registry };
  return (holder[REGISTRY_KEY] ??= {
    databases: new Map(),
    fingerprintKey: globalThis.crypto.getRandomValues(new Uint8Array(32)),
    requestScope: new AsyncLocalStorage<RequestScope>(),
  });
}

/** Close every database of this process, for shutdown hooks and tests. Idempotent. */
export async function closeAll(): Promise<void> {
  await Promise.all([...registry().databases.values()].map((lifecycle) => lifecycle.close()));
}

/** The lifecycle for a name, created on first sight; never replaced afterwards. */
export function lifecycleFor(name: string): Lifecycle {
  const { databases } = registry();
  let lifecycle = databases.get(name);
  if (!lifecycle) {
    lifecycle = new Lifecycle(name);
    databases.set(name, lifecycle);
  }
  return lifecycle;
}
