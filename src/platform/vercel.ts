import type { SafeLogger } from "../logger.js";
import { describeError } from "../redact.js";
import { detectPlatform } from "./detect.js";

type AttachDatabasePool = (pool: unknown) => void;

/** Hands a freshly opened pool to the platform; never throws. */
export type PlatformAttach = (kind: string, client: unknown) => void;

let loading: Promise<AttachDatabasePool | null> | undefined;

/**
 * Vercel Fluid compute: when the app runs on Vercel and `@vercel/functions` is
 * installed, every pool is handed to its `attachDatabasePool()` at connect.
 * From then on each released connection makes the platform wait (through the
 * request's `waitUntil`) until the pool's idle timeout has passed, so the
 * instance is not suspended while it still holds idle connections (which the
 * database would keep open, and the pool would find dead at the thaw).
 *
 * Starts loading the package at once, beside the driver's connect, so the
 * first connect does not wait for it in turn; resolves to `null` off Vercel,
 * with `attachDatabasePool: false`, or without the package. Never rejects.
 */
export function platformAttach(enabled: boolean, log: SafeLogger): Promise<PlatformAttach | null> {
  if (!enabled || detectPlatform()?.name !== "vercel") return Promise.resolve(null);
  return (loading ??= loadAttach()).then((attach) => {
    if (attach === null) {
      log.info(
        "running on Vercel, but @vercel/functions could not be loaded (not installed, or not traced into the deployment): " +
          "install it (npm install @vercel/functions) so that Fluid compute keeps an instance alive until its idle " +
          "connections have closed (attachDatabasePool)",
      );
      return null;
    }
    return (kind, client) => {
      try {
        attach(vercelPoolOf(kind, client));
        log.debug("pool attached to Vercel Fluid compute (attachDatabasePool)");
      } catch (err) {
        log.warn(`@vercel/functions' attachDatabasePool() refused this pool: ${describeError(err, (s) => s).message}`);
      }
    };
  });
}

/**
 * The object `attachDatabasePool()` recognises for each bundled driver: pg's
 * `Pool` and the `MongoClient` as they are; for mysql2, the callback pool's
 * events with its real idle timeout (`attachDatabasePool` reads it from a
 * place mysql2's pool does not fill, and would wait 60 s), plus the second
 * mysql2's idle sweep may take to run. Other clients are passed as they are.
 */
export function vercelPoolOf(kind: string, client: unknown): unknown {
  if (kind !== "mysql2") return client;
  const core = (client as { pool?: { on(event: string, listener: (...args: unknown[]) => void): unknown; config?: { idleTimeout?: number } } }).pool;
  if (!core || typeof core.on !== "function") return client;
  return {
    on: (event: string, listener: (...args: unknown[]) => void) => core.on(event, listener),
    config: { idleTimeout: (core.config?.idleTimeout ?? 60_000) + MYSQL2_SWEEP_MS },
  };
}

/** mysql2 looks for idle connections to close once a second. */
const MYSQL2_SWEEP_MS = 1000;

async function loadAttach(): Promise<AttachDatabasePool | null> {
  try {
    const mod = (await import(/* webpackIgnore: true */ "@vercel/functions/db-connections")) as Record<string, unknown>;
    const attach = mod.attachDatabasePool ?? (mod.default as Record<string, unknown> | undefined)?.attachDatabasePool;
    return typeof attach === "function" ? (attach as AttachDatabasePool) : null;
  } catch {
    // Not installed (it is an optional peer), or too old to have attachDatabasePool.
    return null;
  }
}
