import type { ResolvedOptions } from "./options.js";

/** Exponential backoff: cooldownMs, then × factor per consecutive failure, capped. */
export function cooldownFor(consecutiveFailures: number, options: ResolvedOptions): number {
  const exponent = Math.max(0, consecutiveFailures - 1);
  return Math.min(options.maxCooldownMs, options.cooldownMs * options.factor ** exponent);
}

/** Whole seconds for `Retry-After`, never 0 (a 0 invites an immediate retry storm). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
