import type { MongoClient } from "mongodb";
import { onPause } from "../registry.js";
import type { ConnectContext } from "../types.js";

/** Driver internals read here; driver 6.x and 7.x share these names (CMAP pool, SDAM monitor). */
interface ServerInternals {
  pool?: { generation?: number; connections?: Iterable<{ generation: number }> };
  monitor?: { s?: { state?: string }; connection?: { destroy(): void } | null };
  description?: { topologyVersion?: unknown };
}

/** The longest a probe waits for a heartbeat that was running when the process was paused. */
const HEARTBEAT_WAIT_MS = 1500;

/** Per client: resolves once a heartbeat caught by a pause has ended (the probe waits for it). */
const heartbeatsInFlight = new WeakMap<MongoClient, Promise<void>>();

/**
 * Resolves once a heartbeat that a pause caught in the middle has ended, so a
 * probe sees the server as the driver will: a check sent on a connection that
 * died during the freeze fails, and the driver clears the pool.
 */
export function heartbeatSettled(client: MongoClient): Promise<void> {
  return heartbeatsInFlight.get(client) ?? Promise.resolve();
}

/**
 * Thaw safety for MongoDB: when the process was paused (a frozen serverless
 * instance, SIGSTOP), the pooled connections idle in the driver's pool are
 * marked stale, which the driver itself destroys (reason "stale") instead of
 * handing one out, and an idle monitoring connection is closed so the next
 * heartbeat opens a fresh one rather than failing on a dead socket and
 * marking the server unknown. Requests then open fresh connections. No
 * operation is retried: none was sent.
 *
 * Unlike the driver's `pool.clear()`, marking connections stale does not pause
 * the pool. A monitor in the middle of a streaming check is left alone.
 * Returns the unsubscribe, for `close()`.
 */
export function retireIdleOnThaw(client: MongoClient, ctx: ConnectContext): () => void {
  return onPause(({ pausedMs }) => {
    const servers = (client as unknown as { topology?: { s?: { servers?: Map<string, ServerInternals> } } }).topology?.s?.servers;
    if (!(servers instanceof Map)) return;
    let retired = 0;
    let heartbeatCaught = false;
    for (const server of servers.values()) {
      const pool = server.pool;
      if (pool && typeof pool.generation === "number" && pool.connections) {
        for (const connection of pool.connections) {
          connection.generation = pool.generation - 1;
          retired++;
        }
      }
      const monitor = server.monitor;
      if (monitor?.connection && monitor.s?.state === "idle") {
        monitor.connection.destroy();
        monitor.connection = null;
      } else if (monitor?.s?.state === "monitoring" && server.description?.topologyVersion == null) {
        // A polling check (not a streaming one, which waits by design) was sent
        // on a connection that may have died with the freeze.
        heartbeatCaught = true;
      }
    }
    if (heartbeatCaught) {
      heartbeatsInFlight.set(client, heartbeatEnd(client));
      // Requests wait on one probe, which waits for that check, instead of
      // running on a pool the driver may clear under them.
      ctx.report("unreachable", new Error("the process was paused while the driver was checking the server; one probe decides"));
    }
    if (retired === 0) return;
    ctx.log.info(
      `the process was paused for ${(pausedMs / 1000).toFixed(1)} s (frozen, or a blocked event loop); ` +
        `retired ${retired} idle connection${retired === 1 ? "" : "s"} that may not have survived it`,
    );
  });
}

function heartbeatEnd(client: MongoClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("serverHeartbeatSucceeded", done);
      client.off("serverHeartbeatFailed", done);
      resolve();
    };
    const timer = setTimeout(done, HEARTBEAT_WAIT_MS);
    timer.unref?.();
    client.on("serverHeartbeatSucceeded", done);
    client.on("serverHeartbeatFailed", done);
  }).then(() => {
    heartbeatsInFlight.delete(client);
  });
}
