import { AsyncLocalStorage } from "node:async_hooks";
import { Lifecycle } from "./lifecycle.js";
import type { RequestScope } from "./request-scope.js";
import { PauseWatch } from "./thaw/pause-watch.js";

/**
 * All process-wide state, in one object on `globalThis` under a `Symbol.for`
 * key.
 *
 * Every copy of this module sees the same object: the copy re-evaluated by a
 * dev hot reload, the copies bundled separately into the Pages Router, the App
 * Router and instrumentation by `next build`, and the ESM and CJS builds of the
 * package. That is what makes "one pool per process" hold in production too,
 * where a `NODE_ENV`-guarded singleton still gives one pool per bundle.
 *
 * The key carries a layout version: a release that changes the shape of this
 * object uses a new key instead of misreading an old one.
 */
const STATE_KEY = Symbol.for("next-db-connect.state.v2");

export interface ShutdownState {
  /** Requests that went through the package and have not ended yet (counted once `closeOnShutdown()` is installed). */
  inFlight: number;
  /** A shutdown signal arrived: new requests get 503 with `Connection: close`. */
  draining: boolean;
  /** The pools were closed for good: nothing may open a new one. */
  closed: boolean;
  /** Called when `inFlight` reaches 0. */
  drained: Array<() => void>;
  /** The installed drain-and-close, shared by every bundle's copy; null until installed. */
  run: ((signal: NodeJS.Signals) => Promise<void>) | null;
  done: Promise<void> | null;
}

export interface ProcessState {
  /** One lifecycle per database name. */
  readonly databases: Map<string, Lifecycle>;
  /** Per-process key for config fingerprints (see fingerprint.ts). */
  readonly fingerprintKey: Uint8Array<ArrayBuffer>;
  /** Shared so a pool created by one bundle sees requests scoped by another. */
  readonly requestScope: AsyncLocalStorage<RequestScope>;
  readonly shutdown: ShutdownState;
  /** Numbers `createDatabase()` calls in order, to tell a stale definition from a newer one. */
  definitions: number;
  /** Notices a frozen and thawed process, for the pools to drop idle connections that may not have survived it. */
  pauses: PauseWatch;
}

export function processState(): ProcessState {
  const holder = globalThis as { [STATE_KEY]?: ProcessState };
  return (holder[STATE_KEY] ??= {
    databases: new Map(),
    fingerprintKey: globalThis.crypto.getRandomValues(new Uint8Array(32)),
    requestScope: new AsyncLocalStorage<RequestScope>(),
    shutdown: { inFlight: 0, draining: false, closed: false, drained: [], run: null, done: null },
    definitions: 0,
    pauses: new PauseWatch(),
  });
}

/** Close every database of this process, for shutdown hooks and tests. Idempotent. */
export async function closeAll(): Promise<void> {
  await Promise.all([...processState().databases.values()].map((lifecycle) => lifecycle.close()));
}

/** The lifecycle for a name, created on first sight; never replaced afterwards. */
export function lifecycleFor(name: string): Lifecycle {
  const { databases } = processState();
  let lifecycle = databases.get(name);
  if (!lifecycle) {
    lifecycle = new Lifecycle(name);
    databases.set(name, lifecycle);
  }
  return lifecycle;
}

/** Subscribes to pauses of this process (see thaw/pause-watch.ts); returns the unsubscribe. */
export function onPause(listener: (pause: { pausedMs: number }) => void): () => void {
  return pauses().subscribe(listener);
}

/** The process's pause watch (made here too if an older copy of the package made the state object). */
export function pauses(): PauseWatch {
  const state = processState();
  return (state.pauses ??= new PauseWatch());
}
