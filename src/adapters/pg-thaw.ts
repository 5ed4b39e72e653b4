import type { Pool, PoolClient } from "pg";
import { onPause } from "../registry.js";
import type { ConnectContext } from "../types.js";

/** pg-pool internals read here; they have kept these names through pg-pool 3.x. */
interface PoolInternals {
  _idle?: Array<{ client: PoolClient }>;
  _remove?(client: PoolClient, callback?: () => void): void;
}

interface ClientInternals {
  connection?: { stream?: { destroyed?: boolean; destroy(): void } };
}

/** How long a dropped connection may take to say goodbye before its socket is destroyed. */
const GOODBYE_MS = 2000;

/**
 * Thaw safety for node-postgres (node-postgres #2112, #2718): when the process
 * was paused (a frozen serverless instance, SIGSTOP), every idle client is
 * removed from the pool before a request can be handed one. Its connection
 * may have been ended by the server, a pooler or a NAT while nothing ran here;
 * the pool's idle timers did not run either. Requests then open fresh
 * connections (one connect each, at most `max` at a time) instead of sending
 * their query down a dead socket. No query is retried: none was sent.
 *
 * A dropped client is not the database's failure: its errors (a reset while
 * saying goodbye on a socket that died silently) are swallowed, not reported.
 * Returns the unsubscribe, for `close()`.
 */
export function dropIdleOnThaw(pool: Pool, ctx: ConnectContext): () => void {
  return onPause(({ pausedMs }) => {
    const internals = pool as unknown as PoolInternals;
    const idle = internals._idle;
    if (!Array.isArray(idle) || typeof internals._remove !== "function" || idle.length === 0) return;
    const clients = idle.map((item) => item.client);
    for (const client of clients) retire(internals, client);
    ctx.log.info(
      `the process was paused for ${(pausedMs / 1000).toFixed(1)} s (frozen, or a blocked event loop); ` +
        `closed ${clients.length} idle connection${clients.length === 1 ? "" : "s"} that may not have survived it`,
    );
  });
}

function retire(pool: PoolInternals, client: PoolClient): void {
  client.removeAllListeners("error");
  client.on("error", noop);
  // pg-pool's own removal: out of the idle list and the count, its idle timer
  // cleared, then a polite end (Terminate) on the socket.
  pool._remove!(client);
  const stream = (client as unknown as ClientInternals).connection?.stream;
  if (!stream) return;
  // A socket that died without a FIN or a reset may never finish ending.
  const timer = setTimeout(() => {
    if (stream.destroyed !== true) stream.destroy();
  }, GOODBYE_MS);
  timer.unref?.();
}

function noop(): void {}
