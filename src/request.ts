import { NETWORK_ERROR_CODES } from "./adapters/network-codes.js";
import { classify } from "./classify.js";
import type { Definition } from "./definition.js";
import { DatabaseConfigError, DatabaseRuntimeError, DatabaseUnavailableError } from "./errors.js";
import type { Lifecycle, OpenPool } from "./lifecycle.js";
import { sanitizeError } from "./redact.js";
import { currentScope, RequestScope, runInScope, type NodeResponseLike, type RequestLike } from "./request-scope.js";
import { beginRequest, isDraining } from "./shutdown.js";

/**
 * How one router style answers what the package answers itself. Everything
 * else (a handler's own error, another service's failure) is rethrown for the
 * router, unchanged.
 */
export interface Answer<T> {
  /** 503 with `Retry-After`: unreachable, saturated, or closed (a shutdown adds `Connection: close`). */
  unavailable(error: DatabaseUnavailableError): T;
  /** 500 `database_misconfigured`: the configuration was rejected; said plainly, never "temporarily unavailable". */
  misconfigured(error: DatabaseConfigError | DatabaseRuntimeError): T;
}

/**
 * The one path every request takes, whatever the router: acquire the pool →
 * run the handler (inside the leak guard's scope) → classify what failed →
 * answer it. The middleware, `api()` and `route()` differ only in how they
 * answer (`Answer`) and in what "run" means for them.
 *
 * `response` is the Node response when there is one: the request ends when it
 * closes. Without one (a Web handler) the request ends when `run` settles.
 */
export class RequestCore {
  constructor(
    private readonly def: Definition,
    private readonly lifecycle: Lifecycle,
  ) {}

  serve<T>(
    request: RequestLike,
    response: NodeResponseLike | undefined,
    answer: Answer<T>,
    run: (pool: OpenPool) => T | Promise<T>,
  ): T | Promise<T> {
    const end = inFlight(response);
    if (isDraining()) {
      end?.();
      return answer.unavailable(
        new DatabaseUnavailableError(this.def.name, "the process is shutting down", 1, { reason: "closed" }),
      );
    }
    const lostAtStart = this.lifecycle.lostConnections;
    const acquired = this.lifecycle.acquire(this.def);
    if (!(acquired instanceof Promise)) return this.runOn(acquired, request, response, answer, run, end, lostAtStart);
    return acquired.then(
      (pool) => this.runOn(pool, request, response, answer, run, end, lostAtStart),
      (err) => {
        end?.();
        return this.settle(err, null, answer);
      },
    );
  }

  private runOn<T>(
    pool: OpenPool,
    request: RequestLike,
    response: NodeResponseLike | undefined,
    answer: Answer<T>,
    run: (pool: OpenPool) => T | Promise<T>,
    end: (() => void) | null,
    lostAtStart: number,
  ): T | Promise<T> {
    const scope = this.scopeFor(pool, request, response);
    let result: T | Promise<T>;
    try {
      result = scope ? runInScope(scope, () => run(pool)) : run(pool);
    } catch (err) {
      if (response === undefined) finish(scope, end);
      return this.settle(err, pool, answer, lostAtStart);
    }
    if (!isPromiseLike(result)) {
      if (response === undefined) finish(scope, end);
      return result;
    }
    // A Node response ends the scope and the in-flight count itself when it
    // closes: only a failure needs handling here (the hot path of Pages routes).
    if (response !== undefined) return Promise.resolve(result).then(undefined, (err) => this.settle(err, pool, answer, lostAtStart));
    // A Web handler is done when `run` settles.
    return Promise.resolve(result).then(
      (value) => {
        finish(scope, end);
        return value;
      },
      (err) => {
        finish(scope, end);
        return this.settle(err, pool, answer, lostAtStart);
      },
    );
  }

  /**
   * What a failed request gets, by the failure's cause. Errors that are not
   * this database's (or are the app's own, like a constraint violation) are
   * rethrown unchanged and keep the app's status.
   *
   * `lostAtStart` is the lifecycle's count of broken pooled connections when
   * the request started (unknown for `database.onError`).
   */
  settle<T>(err: unknown, pool: OpenPool | null, answer: Answer<T>, lostAtStart?: number): T {
    let verdict = pool ? classify(err, pool.adapter, pool.client) : classify(err, this.def.adapter, undefined);
    // The MongoDB driver (6.x and 7.x) hands a command that it wrote to a
    // socket the server had just closed the socket's own EPIPE, unwrapped
    // (Connection.writeCommand awaiting 'drain'), while it discards the
    // connection as broken. Not its class, but its failure: a bare socket
    // error in a request during which the driver lost a connection. A fetch()
    // failure is a TypeError and an HTTP client's error has its own name, so
    // they keep the app's status.
    if (verdict === null && lostAtStart !== undefined && this.lifecycle.lostConnections !== lostAtStart && isBareSocketError(err)) {
      verdict = "unreachable";
    }
    const name = this.def.name;
    switch (verdict) {
      case "unreachable":
        this.lifecycle.observe("unreachable", err);
        return answer.unavailable(
          err instanceof DatabaseUnavailableError
            ? err
            : new DatabaseUnavailableError(name, `database "${name}" connection lost during the request`, 1, {
                reason: "unreachable",
                cause: sanitizeError(err, this.def.redact),
              }),
        );
      case "saturated":
        this.lifecycle.countSaturated();
        return answer.unavailable(
          err instanceof DatabaseUnavailableError
            ? err
            : new DatabaseUnavailableError(name, `database "${name}" is busy: no connection came free in time`, 1, {
                reason: "saturated",
                cause: sanitizeError(err, this.def.redact),
              }),
        );
      case "closed":
        return answer.unavailable(
          err instanceof DatabaseUnavailableError
            ? err
            : new DatabaseUnavailableError(name, `database "${name}" was closed during the request`, 1, { reason: "closed" }),
        );
      case "misconfigured":
        return answer.misconfigured(
          err instanceof DatabaseConfigError || err instanceof DatabaseRuntimeError
            ? err
            : new DatabaseConfigError(name, "connection", `the database rejected the request's connection: ${sanitizeError(err, this.def.redact).message}`),
        );
      default:
        throw err;
    }
  }

  /**
   * The leak guard's scope for this request, or `null` where there is nothing
   * to guard (no SQL checkouts possible, or the guard is off). A scope already
   * open for the same request (two databases on one router) is reused.
   */
  private scopeFor(pool: OpenPool, request: RequestLike, response?: NodeResponseLike): RequestScope | null {
    if (pool.adapter.tracksCheckouts !== true || !this.def.options.leakGuard) return null;
    const current = currentScope();
    if (current !== undefined && current.request === request) return null;
    return new RequestScope(request, response);
  }
}

/**
 * Counts the request as in flight for a graceful shutdown (only once
 * `closeOnShutdown()` is installed). A Node response ends it when it closes,
 * and `null` is returned; otherwise the caller ends it.
 */
function inFlight(response: NodeResponseLike | undefined): (() => void) | null {
  const end = beginRequest();
  if (end === null || response === undefined) return end;
  if (response.closed === true || response.destroyed === true) end();
  else response.once("close", end);
  return null;
}

/** A Web handler's request is over: its leak-guard scope and its in-flight count end. */
function finish(scope: RequestScope | null, end: (() => void) | null): void {
  scope?.end();
  end?.();
}

/** A Node.js socket's own error (`Error` with a network `code`), as a socket emits it: no library's class around it. */
function isBareSocketError(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== "Error") return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && NETWORK_ERROR_CODES.has(code);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
