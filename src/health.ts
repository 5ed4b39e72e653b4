import { classify } from "./classify.js";
import { withDeadline } from "./deadline.js";
import type { Definition } from "./definition.js";
import { DatabaseConfigError } from "./errors.js";
import type { Lifecycle } from "./lifecycle.js";
import { describeError } from "./redact.js";
import type { HealthReport, HealthStatus } from "./types.js";

/**
 * `database.health()`: connects if needed, pings within a timeout, reports.
 * Never throws. A pool so busy that the ping finds no free connection in time
 * is `busy` and `ok`: a readiness probe must not pull an instance for being
 * loaded, which would move its load to the others and pull them next.
 */
export async function health(def: Definition, lifecycle: Lifecycle, options?: { timeoutMs?: number }): Promise<HealthReport> {
  const started = performance.now();
  const report = (status: HealthStatus, err: unknown = null, latencyMs: number | null = null): HealthReport => {
    const error = err === null ? null : describeError(err, def.redact);
    return {
      ok: status === "up" || status === "busy",
      status,
      name: def.name,
      kind: def.kind,
      latencyMs: latencyMs === null ? null : Math.round(latencyMs * 100) / 100,
      error: error ? { message: error.message, ...(error.code !== undefined ? { code: error.code } : {}) } : null,
      stats: lifecycle.stats(def.kind),
    };
  };
  let timeoutMs: number;
  try {
    await def.prepare();
    timeoutMs = options?.timeoutMs ?? def.options.healthTimeoutMs;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
      throw new DatabaseConfigError(def.name, "timeoutMs", 'health() option "timeoutMs" must be a positive number.');
    }
  } catch (err) {
    return report("misconfigured", err);
  }
  let pool;
  try {
    pool = await withDeadline(Promise.resolve(lifecycle.acquire(def)), timeoutMs, "health check");
  } catch (err) {
    const verdict = classify(err, def.adapter, undefined);
    return report(verdict === "misconfigured" ? "misconfigured" : verdict === "saturated" ? "busy" : "down", err);
  }
  const remaining = Math.max(1, timeoutMs - (performance.now() - started));
  const outcome = await lifecycle.check(pool, remaining);
  if (outcome.failure === null) return report(outcome.busy ? "busy" : "up", null, outcome.busy ? null : performance.now() - started);
  lifecycle.observe(outcome.failure, outcome.error);
  return report(outcome.failure === "misconfigured" ? "misconfigured" : "down", outcome.error);
}
