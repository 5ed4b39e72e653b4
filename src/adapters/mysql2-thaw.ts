import { onPause } from "../registry.js";
import type { ConnectContext } from "../types.js";
import type { CorePool } from "./mysql2-pool-guard.js";

interface FreeConnection {
  removeAllListeners(event: string): unknown;
  on(event: string, listener: () => void): unknown;
  destroy(): void;
}

/**
 * Thaw safety for mysql2: when the process was paused (a frozen serverless
 * instance, SIGSTOP), every free connection is destroyed before a request can
 * be handed one. The server's `wait_timeout`, a proxy or a NAT may have ended
 * it while nothing ran here, and mysql2's idle sweep (a timer) did not run
 * either. Requests then open fresh connections instead of sending their query
 * down a dead socket. No query is retried: none was sent.
 *
 * `destroy()` closes the socket without writing to it, and the dropped
 * connection's errors are not the database's: they are swallowed, not
 * reported. Returns the unsubscribe, for `close()`.
 */
export function dropFreeOnThaw(core: CorePool, ctx: ConnectContext): () => void {
  return onPause(({ pausedMs }) => {
    const free = core._freeConnections as { length: number; get?(i: number): FreeConnection } | undefined;
    if (!free?.get || free.length === 0) return;
    const connections: FreeConnection[] = [];
    for (let i = 0; i < free.length; i++) connections.push(free.get(i)!);
    for (const connection of connections) {
      connection.removeAllListeners("error");
      connection.on("error", noop);
      // A pool connection's destroy() also takes it out of the pool's lists.
      connection.destroy();
    }
    ctx.log.info(
      `the process was paused for ${(pausedMs / 1000).toFixed(1)} s (frozen, or a blocked event loop); ` +
        `closed ${connections.length} idle connection${connections.length === 1 ? "" : "s"} that may not have survived it`,
    );
  });
}

function noop(): void {}
