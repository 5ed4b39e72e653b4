import type { Definition } from "./definition.js";
import { DatabaseError } from "./errors.js";
import type { Lifecycle } from "./lifecycle.js";

/**
 * `database.clientPromise()`: the driver's client as a promise, for libraries
 * that take one once, at import, and keep it (connect-mongo's `clientPromise`,
 * Auth.js database adapters).
 *
 * Such a library never asks again, so a promise that rejected during a
 * start-up outage would break it until the process restarts. This one never
 * stays rejected: through an outage it keeps waiting (one attempt per cooldown,
 * shared with the requests), and settles with the client once the database is
 * reachable. It rejects only for a configuration that can never work (a
 * missing or malformed setting).
 *
 * It is lazy: nothing connects until something awaits it, so creating it at
 * import time keeps `next build` free of connections. It is `instanceof
 * Promise` for libraries that check.
 */
export function clientPromise<TClient>(def: Definition, lifecycle: Lifecycle): Promise<TClient> {
  let started: Promise<TClient> | undefined;
  const start = () => (started ??= untilConnected<TClient>(def, lifecycle));
  return Object.create(Promise.prototype, {
    then: { value: (onFulfilled?: never, onRejected?: never) => start().then(onFulfilled, onRejected) },
    catch: { value: (onRejected?: never) => start().catch(onRejected) },
    finally: { value: (onFinally?: never) => start().finally(onFinally) },
    [Symbol.toStringTag]: { value: "Promise" },
  }) as Promise<TClient>;
}

async function untilConnected<TClient>(def: Definition, lifecycle: Lifecycle): Promise<TClient> {
  // A setting that fails validation will never connect: the one case that rejects.
  await def.prepare();
  for (;;) {
    try {
      return (await lifecycle.acquire(def)).client as TClient;
    } catch (err) {
      if (!(err instanceof DatabaseError) || err.code === "DATABASE_RUNTIME") throw err;
      await sleep(retryDelay(lifecycle, def));
    }
  }
}

/** Until the lifecycle allows the next attempt; at least a short pause, so a saturated server is not hammered. */
function retryDelay(lifecycle: Lifecycle, def: Definition): number {
  const retryAt = lifecycle.stats(def.kind).retryAt;
  const wait = retryAt === null ? 0 : Date.parse(retryAt) - Date.now();
  return Math.max(250, wait);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    // A pending client promise must not keep a script alive on its own.
    setTimeout(resolve, ms).unref?.();
  });
}
