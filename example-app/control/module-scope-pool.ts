// CONTROL ONLY, exists to show the problem (see control/README.md): a pool
// created at module scope. Each `next dev` hot reload of this file creates a
// new pool; the previous one is never closed and keeps its connections.
import pg from "pg";
import { CONTROL_MODULE_SCOPE_APP, controlPoolSettings } from "./pool-settings";

const counter = globalThis as { __controlModuleScopeEvaluations?: number };
export const evaluation = (counter.__controlModuleScopeEvaluations = (counter.__controlModuleScopeEvaluations ?? 0) + 1);

export const pool = new pg.Pool(controlPoolSettings(CONTROL_MODULE_SCOPE_APP));
// Only so that the outage test cannot crash the app through the control.
pool.on("error", () => {});
