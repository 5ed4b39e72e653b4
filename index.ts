/**
 * The package entry point: the one module that sees both the core (`src/`)
 * and the router layer (`middleware/`), and assembles the public handle.
 */
import { createApiWrapper } from "./middleware/api.js";
import { createConnectMiddleware } from "./middleware/connect-middleware.js";
import { createErrorHandler } from "./middleware/error-handler.js";
import { createRouteWrapper } from "./middleware/route.js";
import { createCore, type Core } from "./src/core.js";
import type { Database, DatabaseHandle, TransactionCapable } from "./src/database.js";
import type { DatabaseOptions } from "./src/options.js";
import type { AnyAdapter, ClientOf, DbOf, TxOf } from "./src/types.js";

/**
 * Defines a database. Never connects and never throws: the first request (or
 * `connect()`) validates the configuration and opens the pool, once per
 * process and name, however many bundles or hot reloads evaluate this call.
 */
export function createDatabase<A extends AnyAdapter>(
  adapter: A,
  options?: DatabaseOptions<ClientOf<A>, DbOf<A>>,
): Database<ClientOf<A>, DbOf<A>, TxOf<A>> {
  type C = ClientOf<A>;
  type D = DbOf<A>;
  type T = TxOf<A>;
  const core = createCore<C, D, T>(adapter, options);
  const untyped = core as Core<unknown, unknown, unknown>;
  const handle = Object.assign(createConnectMiddleware(untyped), {
    connect: core.connect,
    clientPromise: core.clientPromise,
    api: createApiWrapper(untyped) as DatabaseHandle<C, D>["api"],
    route: createRouteWrapper(untyped) as DatabaseHandle<C, D>["route"],
    onError: createErrorHandler(untyped),
    close: core.close,
    stats: core.stats,
    health: core.health,
  }) satisfies DatabaseHandle<C, D>;
  const transaction = core.transaction;
  if (transaction === undefined) return handle as Database<C, D, T>;
  return Object.assign(handle, { transaction } satisfies TransactionCapable<T>) as Database<C, D, T>;
}

export { defineAdapter, type AdapterDefinition } from "./src/adapters/define-adapter.js";
export { closeAll } from "./src/registry.js";
export { closeOnShutdown, type ShutdownOptions } from "./src/shutdown.js";
export {
  DatabaseError,
  DatabaseConfigError,
  DatabaseUnavailableError,
  DatabaseRuntimeError,
  isDatabaseUnavailableError,
  type UnavailableReason,
} from "./src/errors.js";
export type {
  Database,
  DatabaseErrorHandler,
  DatabaseHandle,
  DatabaseRequest,
  DatabaseFields,
  PagesApiRequest,
  PagesApiResponse,
  TransactionCapable,
} from "./src/database.js";
export type { DatabaseOptions, RetryOptions, ConnectionBudgetOptions } from "./src/options.js";
export type { BudgetReading, ConnectionLimit } from "./src/connection-budget.js";
export type { Logger } from "./src/logger.js";
export type { Failure, Verdict } from "./src/failure.js";
export type {
  Adapter,
  ConnectContext,
  DatabaseRouteContext,
  DatabaseStats,
  HealthReport,
  HealthStatus,
  LifecycleState,
  PoolStats,
  RouteContext,
} from "./src/types.js";
