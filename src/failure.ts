/**
 * Why a database operation failed, in the terms a user acts on. Every error
 * the package answers for is exactly one of these; anything else is the app's.
 *
 * - `unreachable`: refused, reset, DNS, no answer on the wire, server shutting
 *   down. The database is down for everyone: 503, cooldown, one recovery probe.
 * - `saturated`: no pooled connection came free in time, or the server (or the
 *   role) is at its connection limit. The database is up and busy: 503 for that
 *   request only, no cooldown.
 * - `misconfigured`: authentication failed, unknown database or role, TLS
 *   refused. Retrying soon will not help: said plainly, retried slowly.
 * - `closed`: the pool was closed under the request (`close()`, shutdown).
 */
export type Failure = "unreachable" | "saturated" | "misconfigured" | "closed";

/**
 * What an adapter says about an error: a failure of the database, `app` for an
 * error the driver raised that is the app's own (a constraint, a syntax error),
 * or `null` when its client did not raise it at all.
 */
export type Verdict = Failure | "app" | null;

export const FAILURES: ReadonlySet<string> = new Set<Failure>(["unreachable", "saturated", "misconfigured", "closed"]);
