import { DatabaseConfigError } from "../errors.js";
import { show } from "../options.js";
import { createRedactor } from "../redact.js";

/**
 * What handlers get as `req.db` / `db` instead of the pool, built on it:
 * `pg(config, { db: (pool) => drizzle(pool) })`. The pool stays the
 * package's (`req.dbClient`, stats, the leak guard, close, error
 * classification); the mapping runs once per pool and per definition.
 *
 * It is not part of the database's identity: functions never are, since
 * each Next.js bundle compiles them differently.
 */
export interface DbMapping<TPool, TDb> {
  db: (pool: TPool) => TDb;
}

/** The mapping's `db`, checked at first use (never at import) and with its failures named. */
export function mappedDb<TPool, TDb>(
  adapter: string,
  mapping: DbMapping<TPool, TDb> | undefined,
  secrets: readonly (string | undefined)[],
): { validate(name: string): void; db: ((pool: TPool) => TDb) | undefined } {
  if (mapping === undefined) return { validate: () => {}, db: undefined };
  const redact = createRedactor(secrets.filter((s): s is string => typeof s === "string" && s.length > 0));
  let database = "";
  return {
    validate(name) {
      database = name;
      if (typeof mapping !== "object" || mapping === null || typeof mapping.db !== "function") {
        const got = typeof mapping === "object" && mapping !== null ? show(mapping.db) : show(mapping);
        throw new DatabaseConfigError(
          name,
          "db",
          `${adapter}(): the second argument must be { db: (pool) => what handlers get as db }, for example ` +
            `{ db: (pool) => drizzle(pool) }; its "db" is ${got}.`,
        );
      }
    },
    // A mapping that throws is a bug in the app's set-up, not an outage: a
    // config error (500, no cooldown) instead of a 503 retried forever.
    db(pool) {
      try {
        return mapping.db(pool);
      } catch (err) {
        const message = redact(String((err as { message?: unknown } | null)?.message ?? err));
        throw new DatabaseConfigError(database, "db", `${adapter}(): the db mapping threw: ${message}`);
      }
    },
  };
}
