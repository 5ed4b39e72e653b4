import type { SafeLogger } from "../logger.js";
import { detectPlatform, type Platform, type PlatformName } from "./detect.js";

/**
 * Pool settings for a serverless platform, where an instance is frozen
 * between requests and many instances run at once:
 * - a short idle timeout (5 s, what Vercel suggests), so an instance that goes
 *   quiet gives its connections back instead of holding them through a
 *   freeze, and Vercel's `attachDatabasePool` keeps it alive only that long;
 * - a small pool, since `max` is per instance and a fleet multiplies it:
 *   2 where an instance serves one request at a time (AWS Lambda, Netlify; 2,
 *   not 1, so a request that checks out a connection and also queries the pool
 *   does not wait on itself), 5 where it serves many (Vercel Fluid, Cloud Run).
 */
export interface ServerlessPool {
  max: number;
  idleMs: number;
}

export const SERVERLESS_POOLS: Readonly<Record<PlatformName, ServerlessPool>> = {
  vercel: { max: 5, idleMs: 5000 },
  netlify: { max: 2, idleMs: 5000 },
  "aws-lambda": { max: 2, idleMs: 5000 },
  "cloud-run": { max: 5, idleMs: 5000 },
};

/** The driver's own option names for a pool's size and idle timeout. */
const DRIVER_KEYS = {
  pg: (p: ServerlessPool) => ({ max: p.max, idleTimeoutMillis: p.idleMs }),
  // mysql2 closes idle connections only above `maxIdle` (which defaults to the limit).
  mysql2: (p: ServerlessPool) => ({ connectionLimit: p.max, maxIdle: 0, idleTimeout: p.idleMs }),
  mongodb: (p: ServerlessPool) => ({ maxPoolSize: p.max, maxIdleTimeMS: p.idleMs }),
} as const;

export type PooledDriver = keyof typeof DRIVER_KEYS;

export interface ChosenDefaults {
  platform: Platform;
  /** Only the settings the user left unset, by the driver's option names. */
  values: Record<string, number>;
}

/**
 * The platform's pool settings the user did not set, or `null` off a
 * serverless platform. A setting counts as set when the options object has it
 * (not `undefined`), or when `fromUrl` says the connection string has it
 * (MongoDB takes pool options in the URL). User settings always win.
 */
export function serverlessDefaults(
  driver: PooledDriver,
  options: object | undefined,
  fromUrl: (key: string) => boolean = () => false,
  env?: Record<string, string | undefined>,
): ChosenDefaults | null {
  const platform = detectPlatform(env);
  if (platform === null) return null;
  const given = (options ?? {}) as Record<string, unknown>;
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(DRIVER_KEYS[driver](SERVERLESS_POOLS[platform.name]))) {
    if (given[key] === undefined && !fromUrl(key)) values[key] = value;
  }
  return { platform, values };
}

/** The one line a pool's first connect logs on a serverless platform: what was chosen, and how to change it. */
export function announceDefaults(chosen: ChosenDefaults | null, log: SafeLogger): void {
  if (chosen === null) return;
  const { platform, values } = chosen;
  const keys = Object.keys(values);
  const what = keys.length === 0
    ? "your pool options set every serverless default; none applied"
    : `pool defaults ${keys.map((k) => `${k}: ${values[k]}`).join(", ")} (set any of them in the driver options to override)`;
  log.info(`running on ${platform.label} (${platform.detectedBy} is set): ${what}`);
}
