import { createApiWrapper } from "../middleware/api.js";
import type { BoundDatabase } from "../middleware/bound-database.js";
import { createConnectMiddleware } from "../middleware/connect-middleware.js";
import { createErrorHandler } from "../middleware/error-handler.js";
import { createRouteWrapper } from "../middleware/route.js";
import type { Database } from "./database.js";
import { withDeadline } from "./deadline.js";
import { Definition } from "./definition.js";
import { DatabaseConfigError } from "./errors.js";
import type { DatabaseOptions } from "./options.js";
import { describeError } from "./redact.js";
import { lifecycleFor } from "./registry.js";
import type { AnyAdapter, ClientOf, DbOf, HealthReport, TxOf } from "./types.js";

/**
 * Defines a database. Never connects and never throws: the first request (or
 * `connect()`) validates the configuration and opens the pool, once per
 * process and name, however many bundles or hot reloads evaluate this call.
 */
export function createDatabase<A extends AnyAdapter>(
  adapter: A,
  options?: DatabaseOptions<ClientOf<A>, DbOf<A>>,
): Database<ClientOf<A>, DbOf<A>, TxOf<A>> {
  const def = new Definition(adapter, options);
  const bound: BoundDatabase = { def, lifecycle: lifecycleFor(def.name) };
  const { lifecycle } = bound;

  const connect = async () => {
    const { client, db } = await lifecycle.acquire(def);
    return { client, db };
  };

  const health = async (opts?: { timeoutMs?: number }): Promise<HealthReport> => {
    const started = performance.now();
    try {
      const timeoutMs = opts?.timeoutMs ?? (await def.prepare(), def.options.healthTimeoutMs);
      if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
        throw new DatabaseConfigError(def.name, "timeoutMs", "health() option \"timeoutMs\" must be a positive number.");
      }
      const ping = (async () => {
        const c = await lifecycle.acquire(def);
        await Promise.resolve(c.adapter.ping?.(c.client, timeoutMs)).catch((err: unknown) => {
          lifecycle.suspect(err, def);
          throw err;
        });
      })();
      await withDeadline(ping, timeoutMs, "health check");
      return report(true, performance.now() - started, null);
    } catch (err) {
      return report(false, null, describeError(err, def.redact));
    }
  };

  const report = (ok: boolean, latencyMs: number | null, error: HealthReport["error"]): HealthReport => ({
    ok,
    name: def.name,
    kind: def.kind,
    latencyMs: latencyMs === null ? null : Math.round(latencyMs * 100) / 100,
    error: error ? { message: error.message, ...(error.code !== undefined ? { code: error.code } : {}) } : null,
    stats: lifecycle.stats(def.kind),
  });

  const handle = Object.assign(createConnectMiddleware(bound), {
    connect,
    api: createApiWrapper(bound),
    route: createRouteWrapper(bound),
    onError: createErrorHandler(bound),
    close: () => lifecycle.close(),
    stats: () => lifecycle.stats(def.kind),
    health,
  });

  if (typeof (adapter as AnyAdapter | undefined)?.transaction === "function") {
    Object.assign(handle, {
      transaction: async <T>(fn: (tx: unknown) => Promise<T>): Promise<T> => {
        const c = await lifecycle.acquire(def);
        return c.adapter.transaction!(c.client, fn);
      },
    });
  }
  return handle as unknown as Database<ClientOf<A>, DbOf<A>, TxOf<A>>;
}
