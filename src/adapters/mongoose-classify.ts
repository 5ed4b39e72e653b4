import type { Verdict } from "../failure.js";
import { classifyMongo } from "./mongodb-classify.js";

/** The part of a mongoose `Connection` the classifier reads: its Mongoose instance's error base class. */
interface ConnectionLike {
  base?: { Error?: abstract new (...args: never[]) => Error };
}

/**
 * What an error means, if mongoose or its MongoDB driver raised it.
 *
 * - The driver's own `Mongo…` errors mean what they mean for the mongodb
 *   adapter (`classifyMongo`).
 * - `MongooseServerSelectionError` is the driver's server selection error,
 *   re-thrown by mongoose for a connect that found no server: unreachable,
 *   unless the reason is a refused certificate.
 * - A buffered operation that timed out (`bufferCommands: true` during an
 *   outage) is an operation that never reached a server: unreachable.
 * - Every other mongoose error (`ValidationError`, `CastError`,
 *   `DocumentNotFoundError`, `VersionError`, `StrictModeError`,
 *   `OverwriteModelError`…) is about the app's data or models: mongoose raised
 *   it, the app answers it (`app`). They are recognised as instances of the
 *   connection's own `mongoose.Error`, so another library's `ValidationError`
 *   is not taken for mongoose's.
 * - Anything else is not this database's (`null`).
 *
 * `closedByUs`: the package closed this client, so the driver's errors for the
 * operations it cut short are "closed" (as for the mongodb adapter).
 */
export function classifyMongoose(err: unknown, connection: ConnectionLike | undefined, closedByUs = false): Verdict {
  if (typeof err !== "object" || err === null) return null;
  const name = (err as { name?: unknown }).name;
  if (name === "MongooseServerSelectionError") {
    const { reason, cause, code } = err as { reason?: unknown; cause?: unknown; code?: unknown };
    return classifyMongo({ name: "MongoServerSelectionError", reason, cause, code }, closedByUs);
  }
  if (typeof name === "string" && name.startsWith("Mongo") && !name.startsWith("Mongoose")) return classifyMongo(err, closedByUs);
  const MongooseError = connection?.base?.Error;
  const isMongooses = typeof MongooseError === "function" ? err instanceof MongooseError : name === "MongooseError";
  if (!isMongooses) return null;
  if (BUFFERING_TIMED_OUT.test(String((err as { message?: unknown }).message ?? ""))) return "unreachable";
  return "app";
}

/** mongoose's message for a buffered operation given up after `bufferTimeoutMS`. */
const BUFFERING_TIMED_OUT = /buffering timed out after \d+ ?ms/i;
