import type { ResolvedOptions } from "./options.js";

/**
 * Exponential backoff: cooldownMs, then × factor per consecutive failure,
 * capped; then up to `jitter` of it taken off at random. Jitter only ever
 * shortens a cooldown: many instances that lost the database together spread
 * their retries, and none waits longer than configured.
 */
export function cooldownFor(consecutiveFailures: number, options: ResolvedOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, consecutiveFailures - 1);
  const base = Math.min(options.maxCooldownMs, options.cooldownMs * options.factor ** exponent);
  return base * (1 - options.jitter * random());
}

/** Whole seconds for `Retry-After`, never 0 (a 0 invites an immediate retry storm). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
