// The strategies compared, in the order every round runs them.
import type { Driver, StrategyId } from "./app/lib/settings.js";

export type { Driver, StrategyId };
export const DRIVERS: readonly Driver[] = ["pg", "mysql2", "mongodb"];

/**
 * Where the databases are: `local`, the servers on loopback as they are
 * (no TLS, trust or plain passwords); `production`, private servers behind
 * TLS and password hashing (SCRAM-SHA-256, mysql_native_password) with 1 ms
 * added each way by a TCP proxy, what a managed database a network hop away
 * costs per connect.
 */
export type Network = "local" | "production";
export const NETWORKS: readonly Network[] = ["local", "production"];
export const NETWORK_LABELS: Record<Network, string> = { local: "local", production: "production-like" };

/** "pg", or "pg (production-like)": how a (driver, network) pair is named in the report. */
export function targetLabel(driver: Driver, network: Network | undefined): string {
  return network === "production" ? `${driver} (${NETWORK_LABELS.production})` : driver;
}

export interface Strategy {
  id: StrategyId;
  label: string;
  router: "pages" | "app";
  /** Uses a pool (all but a): held to the same pool max. */
  pooled: boolean;
}

// Pairs that are compared run next to each other in a round (c, c-nc, d,
// d-noguard; c-app, e), so a drift within the round hits both alike.
export const STRATEGIES: readonly Strategy[] = [
  { id: "a", label: "a: new client per request", router: "pages", pooled: false },
  { id: "b", label: "b: module-scope pool", router: "pages", pooled: true },
  { id: "c", label: "c: globalThis promise (Pages)", router: "pages", pooled: true },
  { id: "c-nc", label: "c-nc: globalThis promise + next-connect req.db", router: "pages", pooled: true },
  { id: "d", label: "d: next-db-connect + next-connect", router: "pages", pooled: true },
  { id: "d-noguard", label: "d-noguard: d with leakGuard: false", router: "pages", pooled: true },
  { id: "c-app", label: "c-app: globalThis promise (App)", router: "app", pooled: true },
  { id: "e", label: "e: next-db-connect database.route()", router: "app", pooled: true },
];

/**
 * References for the throughput ratios only (d/c-nc, d-noguard/d): no cold
 * start of their own, as they connect exactly as c and d do.
 */
export const THROUGHPUT_ONLY: readonly StrategyId[] = ["c-nc", "d-noguard"];

export function routePath(strategy: StrategyId, driver: Driver): string {
  return `/api/${strategy}/${driver}`;
}

/** The environment variable the bench app reads for a strategy's connection string. */
export function urlVariable(driver: Driver, strategy: StrategyId): string {
  return `BENCH_URL_${driver.toUpperCase()}_${strategy.replace("-", "_").toUpperCase()}`;
}
