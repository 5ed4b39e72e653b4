import type { Driver, Network, StrategyId } from "../strategies.js";

/** Server-side counts for one strategy's own identity (database, user or wire server). */
export interface StrategyCounter {
  /**
   * A cumulative count of connections opened; the bench uses differences.
   * `exact` false when the server only offers a server-wide counter, so a
   * difference also holds other clients' connects made in the same window.
   */
  opened(): Promise<number>;
  /** Connections open now. */
  current(): Promise<number>;
}

export interface DriverTarget {
  driver: Driver;
  network: Network;
  /** e.g. "PostgreSQL 15.20" */
  server: string;
  /** How `opened` is measured, for the report. */
  openedMethod: string;
  openedExact: boolean;
  /** A shared server: a's cold burst is capped so the others' tests keep working. */
  shared: boolean;
  /**
   * Connections a pooled client keeps besides its pool (MongoDB: the monitor
   * and the RTT pinger), allowed on top of the pool max in the cold-start target.
   */
  extraConnections: number;
  /** BENCH_URL_* variables for the bench app. */
  env: Record<string, string>;
  counter(strategy: StrategyId): StrategyCounter;
  /** The name the app's driver-connect counter files a strategy's connects under (app/preload/count-connects.mjs). */
  identity(strategy: StrategyId): string;
  /** Waits until the server's counters include connections that just closed or went idle. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** A database the bench cannot reach: that driver is skipped with this message. */
export class TargetUnavailable extends Error {}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
