import type { Build } from "./build.js";
import { startFaultApp, type Driver, type FaultApp } from "./fault-app.js";

/**
 * How test/fixtures/load-app.mjs serves the database: a router style of the
 * package, or a control: the plain pool behind next-connect v1, or a client
 * per request.
 */
export type LoadRouter = "v1" | "api" | "route" | "plain" | "per-request";

export interface LoadAppOptions {
  build: Build;
  driver: Driver;
  url: string;
  /** application_name (pg), appName (mongodb), and the package's `name`. */
  app: string;
  router: LoadRouter;
  /** Pool size: pg `max`, mysql2 `connectionLimit`, MongoDB `maxPoolSize`. */
  max: number;
  /** Merged into the driver's options, for ours and the plain pool alike. */
  driverOptions?: Record<string, unknown>;
  /** Merged into createDatabase()'s options (ours only). */
  dbOptions?: Record<string, unknown>;
}

export interface LoadReport {
  unhandledRejections: number;
  pid: number;
  /** database.stats(); null for the plain pool. */
  stats: any;
  /** state → samples, one every 20 ms since the app started. */
  statesSeen: Record<string, number>;
  /** Every line the package logged, as "<level> <message>". */
  logs: string[];
}

export interface LoadApp extends FaultApp {
  read(): Promise<LoadReport>;
}

/** Starts test/fixtures/load-app.mjs in its own process. */
export async function startLoadApp(o: LoadAppOptions): Promise<LoadApp> {
  const app = await startFaultApp({
    build: o.build, driver: o.driver, url: o.url, app: o.app, max: o.max, script: "load-app.mjs",
    env: {
      NDC_ROUTER: o.router,
      NDC_DRIVER_OPTIONS: JSON.stringify(o.driverOptions ?? {}),
      NDC_DB_OPTIONS: JSON.stringify(o.dbOptions ?? {}),
    },
  });
  return Object.assign(app, { read: () => app.report() as unknown as Promise<LoadReport> });
}

/** The states sampled between two reports (what the load saw, without the start-up). */
export function statesBetween(before: LoadReport, after: LoadReport): Record<string, number> {
  const seen: Record<string, number> = {};
  for (const [state, n] of Object.entries(after.statesSeen)) {
    const during = n - (before.statesSeen[state] ?? 0);
    if (during > 0) seen[state] = during;
  }
  return seen;
}

/** Lines that would call a healthy, busy database down. */
export const OUTAGE_LINE = /unreachable|cooldown|503 for the next|still unreachable|may be unreachable|lost the server/i;
