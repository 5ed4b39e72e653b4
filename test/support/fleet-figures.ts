import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./build.js";

/**
 * The fleet scenario's figures (test/reliability/fleet.test.ts), one file per
 * mode and K plus one per mode for the connection budget, from which
 * scripts/scaling-report.mjs renders docs/SCALING.md.
 */
export const FLEET_MODES = ["plain", "direct", "transaction", "session"] as const;
export type FleetMode = (typeof FLEET_MODES)[number];

/** One window of load at one fleet size. */
export interface FleetRow {
  kind: "window";
  mode: FleetMode;
  /** Processes in the fleet. */
  k: number;
  poolMax: number;
  /** max_connections less the reserved slots: what the app's role may open. */
  serverLimit: number;
  /** Closed-loop clients over the fleet. */
  clients: number;
  seconds: number;
  requests: number;
  ok: number;
  failed: number;
  okPerSecond: number;
  /** status (or "timeout"/"error") → count */
  statuses: Record<string, number>;
  /** "503 saturated", "500 53300"... → count */
  reasons: Record<string, number>;
  /** 503s that carried Retry-After. */
  retryAfter: number;
  maxLatencyMs: number;
  /** Highest count of the app role's backends in pg_stat_activity, sampled every 100 ms. */
  serverPeak: number;
  /** PgBouncer's own view (SHOW POOLS sampled, SHOW STATS around the window); null straight to the server. */
  bouncer: {
    poolSize: number;
    clientsPeak: number;
    waitingPeak: number;
    serversPeak: number;
    maxwaitS: number;
    xacts: number;
    avgWaitMs: number;
  } | null;
  /** stats().state of every process at the end of the window. */
  states: string[];
  crashes: number;
  unhandledRejections: number;
  /** The package's (or the control's) log over the fleet: distinct lines, most frequent first. */
  log: Array<{ level: string; count: number; line: string }>;
  command: string;
}

/** Where the connection-budget warning fired as the processes joined one by one. */
export interface FleetBudget {
  kind: "budget";
  mode: FleetMode;
  serverLimit: number;
  /** warnAt × serverLimit */
  threshold: number;
  poolMax: number;
  instances: Array<{ k: number; othersAtJoin: number; projected: number; connectedAtJoin: boolean; warned: boolean }>;
  firstWarnedAtK: number | null;
  /** Processes that logged "connections go through a pooler" from their budget check. */
  poolerInfoLines: number;
  command: string;
}

export const FLEET_DIR = join(projectRoot, "test", "artifacts", "fleet");

export function recordFleetFigures(figures: FleetRow | FleetBudget): void {
  mkdirSync(FLEET_DIR, { recursive: true });
  const id = figures.kind === "window" ? `${figures.mode}-k${String(figures.k).padStart(2, "0")}` : `budget-${figures.mode}`;
  writeFileSync(join(FLEET_DIR, `${id}.json`), JSON.stringify(figures, null, 2) + "\n");
}
