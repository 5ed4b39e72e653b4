import type { SafeLogger } from "./logger.js";
import { processState } from "./registry.js";

/** Who a checkout belongs to, so a leak is counted and logged against its database. */
export interface CheckoutOwner {
  name: string;
  log: SafeLogger;
}

export interface RequestLike {
  method?: string;
  url?: string;
}

export interface NodeResponseLike {
  closed?: boolean;
  destroyed?: boolean;
  once(event: "close", listener: () => void): unknown;
}

interface Checkout {
  owner: CheckoutOwner;
  forceRelease: () => void;
}

/**
 * The lifetime of one request, for the leak guard. SQL adapters record every
 * connection checked out while a scope is active (through AsyncLocalStorage,
 * so `req.db` stays the driver's own pool object); whatever is still out when
 * the request ends is released, with a warning naming the route.
 *
 * Cost on the hot path is one small object: the set of checkouts and the
 * end-of-request listener are only created on the first checkout.
 */
export class RequestScope {
  private checkouts: Set<Checkout> | null = null;
  private ended = false;

  constructor(
    /** The request: nested middleware on the same request reuses this scope. */
    readonly request: RequestLike,
    /**
     * A Node response: the scope ends when it closes. Without one (App Router,
     * Web Request), whoever created the scope calls `end()`.
     */
    private readonly response?: NodeResponseLike,
  ) {}

  /** "METHOD /path", without the query string (it may hold tokens). */
  get route(): string {
    const { method = "GET", url = "" } = this.request;
    let path = url;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      try {
        path = new URL(path).pathname;
      } catch {
        // keep the raw value, minus the query below
      }
    }
    const query = path.indexOf("?");
    return `${method} ${query === -1 ? path : path.slice(0, query)}`;
  }

  /** Returns the function that forgets the checkout once it is released normally. */
  track(owner: CheckoutOwner, forceRelease: () => void): () => void {
    if (this.ended) return noop;
    if (this.checkouts === null) {
      this.checkouts = new Set();
      const res = this.response;
      if (res) {
        // The response already closed: the checkout belongs to background work.
        if (res.closed === true || res.destroyed === true) {
          this.ended = true;
          return noop;
        }
        res.once("close", () => this.end());
      }
    }
    const checkout: Checkout = { owner, forceRelease };
    const checkouts = this.checkouts;
    checkouts.add(checkout);
    return () => void checkouts.delete(checkout);
  }

  /** Releases what is still checked out; returns how many there were. */
  end(): number {
    if (this.ended) return 0;
    this.ended = true;
    const leftovers = this.checkouts;
    if (leftovers === null || leftovers.size === 0) return 0;
    this.checkouts = null;
    for (const { owner, forceRelease } of leftovers) {
      owner.log.warn(
        `${this.route} checked out a connection and did not release it before the response ended; ` +
          `the leak guard released it (any open transaction was rolled back). ` +
          `Release connections in a finally block, or use database.transaction().`,
      );
      processState().databases.get(owner.name)?.countLeak();
      try {
        forceRelease();
      } catch (err) {
        owner.log.error(`the leak guard could not release a connection: ${String((err as Error)?.message ?? err)}`);
      }
    }
    return leftovers.size;
  }
}

function noop(): void {}

export function currentScope(): RequestScope | undefined {
  return processState().requestScope.getStore();
}

export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return processState().requestScope.run(scope, fn);
}
