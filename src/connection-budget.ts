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
  /**
   * This app's connections on the server now, this pool's included (pg: the
   * same application_name, role and database; MySQL: the same account). The
   * rest of them belong to its other instances: in a fleet, the instance that
   * joins reads how much the others already hold.
   */
  app?: { label: string; connections: number };
  /**
   * The connections go through a pooler (PgBouncer, Supavisor, RDS Proxy):
   * the server sees the pooler's connections, and this pool's max does not
   * land on it.
   */
  behindPooler?: boolean;
}

interface BudgetVerdict {
  limit: ConnectionLimit;
  /** Connections on it now, not this pool's. */
  others: number;
  /**
   * Usage if this pool grew to its max while everyone else stayed as they are;
   * behind a pooler, usage now (the pool's connections end at the pooler).
   */
  projected: number;
  share: number;
}

/** The limit this pool would strain most at its max; `null` when there are none. */
function tightestLimit(reading: BudgetReading): BudgetVerdict | null {
  let worst: BudgetVerdict | null = null;
  for (const limit of reading.limits) {
    if (!(limit.limit > 0)) continue; // -1 / 0: unlimited
    const others = Math.max(0, limit.used - reading.poolOpen);
    const projected = reading.behindPooler ? limit.used : others + reading.poolMax;
    const share = projected / limit.limit;
    if (worst === null || share > worst.share) worst = { limit, others, projected, share };
  }
  return worst;
}

/** "20 already used by this app's other instances (application_name "shop") and 3 by other clients" */
function whoHoldsThem(reading: BudgetReading, others: number): string {
  if (reading.app === undefined) return `${others} already used by other clients`;
  const instances = Math.min(others, Math.max(0, reading.app.connections - reading.poolOpen));
  return `${instances} already used by this app's other instances (${reading.app.label}) and ${others - instances} by other clients`;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Reads the server's connection limits right after a fresh connect and warns
 * once (per pool) when this pool could take usage past `warnAt` of the
 * tightest one: everything open now that is not this pool's (this app's other
 * instances, other clients) plus this pool at its max. Behind a pooler it
 * warns only when the server is already past `warnAt`. Never rejects: a refused query is ignored, a slow one is
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
      if (verdict === null) return;
      const { limit, others, projected, share } = verdict;
      const over = share > budget.warnAt;
      if (r.behindPooler) {
        // What reaches the server is the pooler's pools, which this process cannot read: say what it can see.
        const seen = `the server has ${projected} of ${limit.limit} connections in use under ${limit.what} (${percent(share)})`;
        if (over) {
          log.warn(
            `connection budget: behind a pooler, ${seen}, above the warning threshold of ${percent(budget.warnAt)}. This pool's ` +
              `max of ${r.poolMax} ends at the pooler; the pooler's own pool sizes (PgBouncer: default_pool_size, ` +
              `max_db_connections), summed over its pools, are what must stay below the server's limit.`,
          );
        } else {
          log.info(`connection budget: connections go through a pooler, so this pool's max of ${r.poolMax} does not reach the server; ${seen}.`);
        }
        return;
      }
      if (!over) {
        // Quiet by default; with a debug logger, what the reading saw (and that it ran).
        log.debug(`connection budget: this pool's max of ${r.poolMax}, with ${whoHoldsThem(r, others)}, comes to ${projected} of ${limit.limit} under ${limit.what} (${percent(share)}): below the warning threshold`);
        return;
      }
      log.warn(
        `connection budget: this pool's max of ${r.poolMax} connections, with ${whoHoldsThem(r, others)}, ` +
          `would take ${limit.what} to ${projected} of ${limit.limit} (${percent(share)}, ` +
          `warning above ${percent(budget.warnAt)}). Lower the pool's max, or put a pooler ` +
          `(PgBouncer, RDS Proxy, ProxySQL) in front of the database; connectionBudget: false silences this check.`,
      );
    },
    (err: unknown) => {
      // Not permitted, not supported, too slow: the check is advice, never an obstacle.
      log.debug(`connection budget check skipped: ${describeError(err, (s) => s).message}`);
    },
  );
}

/** When a deferred budget reading first looks for an idle connection (past a cold start's first burst), then how often and how many times. */
const FIRST_LOOK_MS = 1000;
const IDLE_POLL_MS = 200;
const IDLE_POLLS = 20;

/**
 * The budget reading, run after the pool is handed out, preferably on a
 * connection the pool already holds idle: at a cold start the first requests
 * take the connection the connect opened, and a reading that ran beside them
 * would make the pool open one more (on a serverless instance with a pool of
 * 2, twice the connections a single request needs). It waits, on unref'd
 * timers, a second (a cold start's first burst), then until `hasIdle()` says
 * a connection is free; a pool still without an idle connection after 5 s is
 * busy, not starting, and the reading then queues for a connection like any
 * request. `close()` ends the wait at once: `cancel()` skips the reading,
 * `now()` runs it on the idle connection there is.
 */
export function checkConnectionBudgetWhenIdle(
  adapter: AnyAdapter,
  client: unknown,
  options: ResolvedOptions,
  log: SafeLogger,
  hasIdle: () => boolean,
): { done: Promise<void>; cancel(): void; now(): void } {
  if (options.connectionBudget === null || typeof adapter.budget !== "function") return { done: Promise.resolve(), cancel: () => {}, now: () => {} };
  let cancelled = false;
  let wake: (() => void) | null = null;
  const done = (async () => {
    for (let poll = 0; ; poll++) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, poll === 0 ? FIRST_LOOK_MS : IDLE_POLL_MS).unref?.();
      });
      if (cancelled) return;
      if (hasIdle()) break;
      // A pool that never idles is a busy one, often on a nearly full server: the reading matters
      // most there. Past the cold start, it waits its turn in the pool's queue like a request.
      if (poll >= IDLE_POLLS) break;
    }
    await checkConnectionBudget(adapter, client, options, log);
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      wake?.();
    },
    now() {
      wake?.();
    },
  };
}
