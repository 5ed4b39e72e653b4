import { withDeadline } from "./deadline.js";
import type { SafeLogger } from "./logger.js";
import type { ResolvedOptions } from "./options.js";
import { describeError } from "./redact.js";
import type { AnyAdapter } from "./types.js";

/** One limit the server enforces on connections, and how much of it is taken now. */
export interface ConnectionLimit {
  /** What the limit is, for the warning: "max_connections minus 3 reserved", "the role's CONNECTION LIMIT". */
  what: string;
  limit: number;
  /** Connections counted against it now, this pool's own included. */
  used: number;
}

/** What an adapter's `budget()` reads from the server right after connecting. */
export interface BudgetReading {
  limits: ConnectionLimit[];
  /** This pool's configured maximum. */
  poolMax: number;
  /** This pool's connections open now (already part of every `used`). */
  poolOpen: number;
}

export interface BudgetVerdict {
  limit: ConnectionLimit;
  /** Usage if this pool grew to its max while everyone else stayed as they are. */
  projected: number;
  share: number;
}

/** The limit this pool would strain most at its max; `null` when there are none. */
export function tightestLimit(reading: BudgetReading): BudgetVerdict | null {
  let worst: BudgetVerdict | null = null;
  for (const limit of reading.limits) {
    if (!(limit.limit > 0)) continue; // -1 / 0: unlimited
    const others = Math.max(0, limit.used - reading.poolOpen);
    const projected = others + reading.poolMax;
    const share = projected / limit.limit;
    if (worst === null || share > worst.share) worst = { limit, projected, share };
  }
  return worst;
}

/**
 * Reads the server's connection limits right after a fresh connect and warns
 * once (per pool) when this pool could take usage past `warnAt` of the
 * tightest one. Never rejects: a refused query is ignored, a slow one is
 * abandoned at `timeoutMs`, so the connect is delayed by that much at most.
 */
export function checkConnectionBudget(adapter: AnyAdapter, client: unknown, options: ResolvedOptions, log: SafeLogger): Promise<void> {
  const budget = options.connectionBudget;
  if (budget === null || typeof adapter.budget !== "function") return Promise.resolve();
  const reading = Promise.resolve().then(() => adapter.budget!(client));
  return withDeadline(reading, budget.timeoutMs, "connection budget check").then(
    (r) => {
      if (!r) return;
      const verdict = tightestLimit(r);
      if (verdict === null || verdict.share <= budget.warnAt) return;
      const { limit, projected } = verdict;
      const others = projected - r.poolMax;
      log.warn(
        `connection budget: this pool's max of ${r.poolMax} connections, with ${others} already used by other clients, ` +
          `would take ${limit.what} to ${projected} of ${limit.limit} (${Math.round(verdict.share * 100)}%, ` +
          `warning above ${Math.round(budget.warnAt * 100)}%). Lower the pool's max, or put a pooler ` +
          `(PgBouncer, RDS Proxy, ProxySQL) in front of the database; connectionBudget: false silences this check.`,
      );
    },
    (err: unknown) => {
      // Not permitted, not supported, too slow: the check is advice, never an obstacle.
      log.debug(`connection budget check skipped: ${describeError(err, (s) => s).message}`);
    },
  );
}
