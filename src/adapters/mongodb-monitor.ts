import type { MongoClient } from "mongodb";
import type { ConnectContext, PoolStats } from "../types.js";
import { classifyMongo } from "./mongodb-classify.js";

/**
 * What the package learns from the MongoDB driver's own events.
 *
 * The driver emits no `error` when the server drops its connections (restart,
 * failover, `killOp`, network cut): it discards the dead pooled connections
 * and, if the server stays unreachable, marks it Unknown and reconnects by
 * itself. These listeners log that (contract 3: errors are handled *and
 * logged*) and tell the lifecycle: when no server is known any more, requests
 * get 503 at once instead of each waiting out server selection; when one is
 * back, the first request succeeds.
 */
export function watchClient(client: MongoClient, ctx: ConnectContext): void {
  // The client is an EventEmitter; an 'error' with no listener would be fatal.
  client.on("error", (err: Error) => ctx.log.error(`client error: ${err.message}`));
  client.on("connectionClosed", (event) => {
    if (event.reason !== "error") return; // "stale", "idle", "poolClosed": routine
    const error = (event as { error?: Error | null }).error ?? null;
    ctx.log.warn(`a pooled connection failed (${error?.message ?? "socket closed"}); the driver discarded it`);
    // Usually without an error: a command's socket failed and the pool discarded the connection at check-in.
    ctx.connectionLost();
    ctx.report(error ? (classifyMongo(error) ?? "unreachable") : "unreachable", error ?? new Error("a pooled connection's socket failed"));
  });
  client.on("serverDescriptionChanged", (event) => {
    const was = event.previousDescription.type;
    const now = event.newDescription.type;
    if (now === "Unknown" && was !== "Unknown") {
      const reason = event.newDescription.error?.message ?? "no reply";
      ctx.log.error(`lost the connection to ${event.address} (${reason}); the driver reconnects`);
    } else if (was === "Unknown" && now !== "Unknown") {
      ctx.log.info(`connected to ${event.address}`);
    }
  });
  let known = true;
  client.on("topologyDescriptionChanged", (event) => {
    const description = event.newDescription as { hasKnownServers?: boolean; servers?: Map<string, { error?: unknown }> };
    const nowKnown = description.hasKnownServers !== false;
    if (nowKnown === known) return;
    known = nowKnown;
    const cause = [...(description.servers?.values() ?? [])].find((s) => s.error)?.error;
    ctx.serverState(nowKnown, cause);
  });
}

/**
 * Pool figures from the driver's connection-pool (CMAP) events; the driver
 * keeps no public counters. Monitoring connections are not part of the pool
 * and are not counted here.
 */
export class PoolCounters {
  private open = 0;
  private inUse = 0;
  private waiting = 0;

  constructor(client: MongoClient, private readonly max: number) {
    client.on("connectionCreated", () => this.open++);
    client.on("connectionClosed", () => (this.open = Math.max(0, this.open - 1)));
    client.on("connectionCheckOutStarted", () => this.waiting++);
    client.on("connectionCheckOutFailed", () => (this.waiting = Math.max(0, this.waiting - 1)));
    client.on("connectionCheckedOut", () => {
      this.waiting = Math.max(0, this.waiting - 1);
      this.inUse++;
    });
    client.on("connectionCheckedIn", () => (this.inUse = Math.max(0, this.inUse - 1)));
  }

  snapshot(): Partial<PoolStats> {
    return { open: this.open, idle: Math.max(0, this.open - this.inUse), inUse: this.inUse, waiting: this.waiting, max: this.max };
  }
}
