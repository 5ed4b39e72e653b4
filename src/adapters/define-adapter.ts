import { DatabaseConfigError } from "../errors.js";
import type { Verdict } from "../failure.js";
import { show } from "../options.js";
import type { BudgetReading } from "../connection-budget.js";
import type { Adapter, ConnectContext, PoolStats } from "../types.js";

export interface AdapterDefinition<TClient, TDb = TClient, TTx = never> {
  /** Short name for stats and logs: "prisma", "postgres.js", "mongoose". */
  kind: string;
  /**
   * Open the client and make sure it works; reject if it cannot. `ctx.signal`
   * aborts when the package gives up on the attempt: close what was opened.
   */
  connect: (ctx: ConnectContext) => Promise<TClient> | TClient;
  /** End every connection. */
  close: (client: TClient) => Promise<unknown> | unknown;
  /** What handlers get as `db`. Default: the client itself. */
  db?: (client: TClient) => TDb;
  /** A cheap round trip, for `health()` and for recovery after an outage. */
  ping?: (client: TClient, timeoutMs: number) => Promise<unknown> | unknown;
  /**
   * A round trip on a connection of its own, outside the pool, within
   * `timeoutMs`: asked when a probe after an outage report finds every pooled
   * connection busy, to tell a busy database from one that stopped answering.
   * Without it, such a probe reads "busy".
   */
  reachable?: (client: TClient, timeoutMs: number) => Promise<unknown> | unknown;
  stats?: (client: TClient) => Partial<PoolStats>;
  /**
   * The settings that identify this client. Only a keyed hash of it is kept:
   * when it changes in dev, the old client is closed and a new one opened.
   * Without it, a changed definition reuses the open client until restart.
   */
  config?: unknown;
  /** Strings to mask in every error, log line and report (passwords, URLs). */
  secrets?: readonly (string | undefined | null)[];
  /** Throw `DatabaseConfigError` for bad settings; runs at first use, not import. */
  validate?: (name: string) => void;
  /** Where it connects, safe to log ("db.internal:5432/app"); never credentials. */
  target?: () => string;
  /**
   * What an error your client raised means: "unreachable" (503, cooldown,
   * probe), "saturated" (503 for that request only), "misconfigured" (500,
   * retried slowly), "app" (the app's own error), or `null` when your client
   * did not raise it (recognise your driver's error classes: a failed
   * `fetch()` is not a database outage). `client` is the client the request
   * used, or undefined during a connect.
   */
  classify?: (err: unknown, client: TClient | undefined) => Verdict;
  /** Older, narrower form of `classify`: true means "unreachable". */
  isUnavailableError?: (err: unknown) => boolean;
  transaction?: <T>(client: TClient, fn: (tx: TTx) => Promise<T>) => Promise<T>;
  tracksCheckouts?: boolean;
  /** The server's connection limits and usage, for the `connectionBudget` warning. */
  budget?: (client: TClient) => Promise<BudgetReading | null>;
}

/**
 * Brings any client to `createDatabase()`: Prisma, Drizzle, postgres.js,
 * mongoose, ioredis. Never throws here (it usually runs at import time);
 * a malformed definition is reported at first use.
 */
export function defineAdapter<TClient, TDb = TClient, TTx = never>(
  definition: AdapterDefinition<TClient, TDb, TTx>,
): Adapter<TClient, TDb, TTx> {
  const d = (definition ?? {}) as Partial<AdapterDefinition<TClient, TDb, TTx>>;
  const kind = typeof d.kind === "string" && d.kind.length > 0 ? d.kind : "custom";
  return {
    kind,
    // The identity is the config alone, never the connect function's source:
    // each Next.js bundle (and the ESM and CJS builds) compiles and minifies
    // that source differently, and two bundles would then keep closing each
    // other's pool as a "changed config" (test/single-connect.test.ts).
    config: d.config,
    secrets: (Array.isArray(d.secrets) ? d.secrets : []).filter((s): s is string => typeof s === "string"),
    validate(name) {
      const fail = (setting: string, problem: string): never => {
        throw new DatabaseConfigError(name, setting, `defineAdapter(): "${setting}" ${problem}`);
      };
      if (typeof definition !== "object" || definition === null) fail("definition", `must be an object, got ${show(definition)}.`);
      if (typeof d.kind !== "string" || d.kind.length === 0) fail("kind", `must be a non-empty string, got ${show(d.kind)}.`);
      for (const key of ["connect", "close"] as const) {
        if (typeof d[key] !== "function") fail(key, `must be a function, got ${show(d[key])}.`);
      }
      for (const key of ["db", "ping", "reachable", "stats", "validate", "target", "classify", "isUnavailableError", "transaction", "budget"] as const) {
        if (d[key] !== undefined && typeof d[key] !== "function") fail(key, `must be a function, got ${show(d[key])}.`);
      }
      d.validate?.(name);
    },
    connect: async (ctx) => d.connect!(ctx),
    db: (client) => (d.db ? d.db(client) : (client as unknown as TDb)),
    close: async (client) => {
      await d.close!(client);
    },
    ...(d.ping ? { ping: async (client: TClient, timeoutMs: number) => d.ping!(client, timeoutMs) } : {}),
    ...(d.reachable ? { reachable: async (client: TClient, timeoutMs: number) => d.reachable!(client, timeoutMs) } : {}),
    ...(d.stats ? { stats: d.stats } : {}),
    ...(d.target ? { target: d.target } : {}),
    ...(d.classify || d.isUnavailableError ? { classify: userClassifier(d.classify, d.isUnavailableError) } : {}),
    ...(d.transaction ? { transaction: d.transaction } : {}),
    ...(d.tracksCheckouts ? { tracksCheckouts: true } : {}),
    ...(d.budget ? { budget: d.budget } : {}),
  };
}

function userClassifier<TClient>(
  classify?: (err: unknown, client: TClient | undefined) => Verdict,
  isUnavailable?: (err: unknown) => boolean,
): (err: unknown, client: TClient | undefined) => Verdict {
  return (err, client) => {
    if (classify) return classify(err, client) ?? null;
    return isUnavailable!(err) === true ? "unreachable" : null;
  };
}
