import type { Failure, Verdict } from "../failure.js";

/**
 * The errors a pool handed out, with what each means. The SQL adapters record
 * every error their pool's own methods raise (checkouts, queries, connection
 * events), so a request that fails with one is answered by its cause, and an
 * error the pool never raised (another service's ECONNREFUSED) is not the
 * database's, whatever its code.
 */
export class RaisedErrors {
  private readonly verdicts = new WeakMap<object, { owner: object; verdict: Failure | "app" }>();

  /** Records `err` as raised by `owner` (first record wins: the checkout knows more than the query that saw it next). */
  mark(owner: object, err: unknown, verdict: Failure | "app"): void {
    if (typeof err !== "object" || err === null || this.verdicts.has(err)) return;
    this.verdicts.set(err, { owner, verdict });
  }

  /** What `err` means if `owner` raised it (any pool of this adapter while connecting: `owner` undefined). */
  verdict(err: unknown, owner: object | undefined): Verdict {
    if (typeof err !== "object" || err === null) return null;
    const found = this.verdicts.get(err);
    if (found === undefined || (owner !== undefined && found.owner !== owner)) return null;
    return found.verdict;
  }

  has(err: unknown): boolean {
    return typeof err === "object" && err !== null && this.verdicts.has(err);
  }
}
