import type { Pool, PoolClient } from "pg";
import type { SafeLogger } from "../logger.js";
import { messageOf } from "./network-codes.js";

/**
 * How the pooler between the app and PostgreSQL hands out server connections
 * (the `pooler` option of `pg()`): `transaction` (PgBouncer's
 * pool_mode=transaction, Supavisor's and Neon's pooled endpoints) gives each
 * transaction whichever server connection is free; `session` keeps one per
 * client connection.
 */
export type PoolerMode = "transaction" | "session";

export const POOLER_MODES: readonly PoolerMode[] = ["transaction", "session"];

/** Refusal of a statement that cannot work through a transaction-mode pooler. */
export class TransactionPoolerError extends Error {
  readonly code = "NDC_TRANSACTION_POOLER";
  constructor(message: string) {
    super(message);
    this.name = "TransactionPoolerError";
  }
}

/**
 * The connect's own check, which also tells whether a pooler sits in between.
 * A pooler answers the login itself and hands the client a cancel key of its
 * own (PgBouncer: random), so the backend pid the server reports for the
 * session is not the one announced at login. A plain TCP proxy or a port
 * mapping passes the server's own key through: no false alarm there.
 */
export async function verifyAndDetectPooler(pool: Pool): Promise<boolean> {
  // The callback form, as pool.query() uses: a connect made inside a request
  // is not the request's checkout, and must not reach its leak guard.
  const { client, release } = await new Promise<{ client: PoolClient; release: (err?: Error) => void }>((resolve, reject) =>
    pool.connect((err, client, release) => (err ? reject(err) : resolve({ client: client!, release }))),
  );
  let broken: Error | undefined;
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const announced = (client as unknown as { processID?: unknown }).processID;
    return typeof announced === "number" && rows[0]?.pid !== announced;
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    release(broken);
  }
}

// The leading statement, or one after a ";": SET that is not SET LOCAL /
// TRANSACTION / CONSTRAINTS lasts for the session, i.e. for the server connection.
const SESSION_SET = /(?:^|;)\s*SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)/i;
const LISTEN = /(?:^|;)\s*LISTEN\b/i;
// pg_advisory_lock, pg_advisory_lock_shared, pg_try_advisory_lock(_shared); not the _xact_ forms.
const SESSION_ADVISORY_LOCK = /\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(/i;

type Pitfall = "prepared" | "set" | "advisory";

const ADVICE: Record<Pitfall, string> = {
  prepared:
    "a named prepared statement went through a transaction-mode pooler (pooler: \"transaction\"): it is prepared on one server " +
    "connection, and an execution that lands on another fails with \"prepared statement ... does not exist\" (26000). Drop its " +
    "`name` (node-postgres then sends an unnamed statement, which works), or use PgBouncer 1.21 or later with " +
    "max_prepared_statements set, or session pooling",
  set:
    "a session-level SET went through a transaction-mode pooler (pooler: \"transaction\"): it changes the server connection " +
    "that ran it, which then serves other clients, while this client's next query may run on another one. Use SET LOCAL " +
    "(or set_config(name, value, true)) inside database.transaction(), or ALTER ROLE/DATABASE ... SET for a lasting setting",
  advisory:
    "a session-level advisory lock went through a transaction-mode pooler (pooler: \"transaction\"): the lock stays with the " +
    "server connection that took it, pg_advisory_unlock on another one returns false, and the lock is held until that " +
    "server connection closes. Use pg_advisory_xact_lock inside database.transaction()",
};

/**
 * What the package knows about the pooler in front of one pool, and what it
 * says about the statements that break behind transaction pooling. Only a
 * pool declared `pooler: "transaction"` looks at its queries (one property
 * read and two regular-expression tests, no allocation); every other pool
 * pays nothing per query, and learns only from errors, which are rare.
 */
export class PoolerWatch {
  /** True once the connect found a pooler in between, or the option says there is one. */
  behindPooler: boolean;
  private readonly warned = new Set<Pitfall>();

  constructor(
    readonly mode: PoolerMode | undefined,
    private readonly log: SafeLogger,
  ) {
    this.behindPooler = mode !== undefined;
  }

  /** The connect's finding. */
  detected(pooler: boolean): void {
    if (pooler && this.mode === undefined) {
      this.log.info(
        "the server reports another backend than the one that answered the login: connections go through a pooler " +
          "(PgBouncer, Supavisor, RDS Proxy...). If it pools by transaction, set pooler: \"transaction\" in pg() so that " +
          "statements that cannot work there (LISTEN, session SET, advisory locks, named prepared statements) are refused " +
          "or reported; pooler: \"session\" silences this line",
      );
    } else if (!pooler && this.mode === "transaction") {
      this.log.info("pooler: \"transaction\" is set, but the server answered the login itself: this connection does not seem to go through a pooler");
    }
    this.behindPooler = pooler || this.mode !== undefined;
  }

  /**
   * The check run before every query of a pool declared `pooler:
   * "transaction"`: an error to refuse it with, or null. Null (no check at
   * all) for every other pool.
   */
  queryCheck(): ((query: unknown) => TransactionPoolerError | null) | null {
    if (this.mode !== "transaction") return null;
    return (query) => {
      let text: unknown = query;
      if (typeof query === "object" && query !== null) {
        const { name, text: t } = query as { name?: unknown; text?: unknown };
        if (typeof name === "string" && name.length > 0) this.warnOnce("prepared");
        text = t;
      }
      if (typeof text !== "string") return null;
      if (LISTEN.test(text)) {
        return new TransactionPoolerError(
          "next-db-connect: LISTEN cannot work through a transaction-mode pooler (pooler: \"transaction\"): the server " +
            "connection that registered the listener goes back to the pooler after the statement, so notifications are " +
            "lost or reach another client. Listen on a connection of its own straight to the server (a pg.Client to the " +
            "server's own address), or through session pooling.",
        );
      }
      if (SESSION_SET.test(text)) this.warnOnce("set");
      if (SESSION_ADVISORY_LOCK.test(text)) this.warnOnce("advisory");
      return null;
    };
  }

  /**
   * An error a query raised. Behind a pooler, the prepared-statement errors
   * transaction pooling causes get the explanation the server cannot give.
   */
  explain(err: unknown): void {
    if (!this.behindPooler || this.warned.has("prepared")) return;
    const code = (err as { code?: unknown } | null)?.code;
    const message = messageOf(err);
    // 26000: prepared here, executed on another server connection; 42P05: two clients prepared one name on the same one.
    if ((code === "26000" || code === "42P05") && /prepared statement/i.test(message)) {
      this.warned.add("prepared");
      this.log.warn(
        `${code === "26000" ? "prepared statement not found" : "prepared statement already exists"} (${code}) behind a pooler: ` +
          "named prepared statements ({ name, text }) only work where one client keeps one server connection. Drop the " +
          "`name`, or use session pooling, or PgBouncer 1.21 or later with max_prepared_statements set",
      );
    }
  }

  private warnOnce(pitfall: Pitfall): void {
    if (this.warned.has(pitfall)) return;
    this.warned.add(pitfall);
    this.log.warn(`${ADVICE[pitfall]}. (Said once per pool.)`);
  }
}
