export { createDatabase } from "./create-database.js";
export { defineAdapter, type AdapterDefinition } from "./adapters/define-adapter.js";
export { closeAll } from "./registry.js";
export { closeOnShutdown, type ShutdownOptions } from "./shutdown.js";
export {
  DatabaseError,
  DatabaseConfigError,
  DatabaseUnavailableError,
  DatabaseRuntimeError,
  isDatabaseUnavailableError,
} from "./errors.js";
export type {
  Database,
  DatabaseHandle,
  DatabaseRequest,
  DatabaseFields,
  PagesApiRequest,
  PagesApiResponse,
  TransactionCapable,
} from "./database.js";
export type { DatabaseOptions, RetryOptions, ConnectionBudgetOptions } from "./options.js";
export type { BudgetReading, ConnectionLimit } from "./connection-budget.js";
export type { Logger } from "./logger.js";
export type { Adapter, ConnectContext, DatabaseStats, HealthReport, LifecycleState, PoolStats } from "./types.js";
export type { RouteContext, DatabaseRouteContext } from "../middleware/route.js";
