// CONTROL ONLY, exists to show the problem (see control/README.md): the
// singleton most Next.js examples recommend. `next build` inlines NODE_ENV,
// so in production the guard is gone and every bundle that imports this file
// creates its own pool.
import pg from "pg";
import { CONTROL_SINGLETON_APP, controlPoolSettings } from "./pool-settings";

const globalForPool = globalThis as unknown as { _controlSingletonPool?: pg.Pool };

export const pool = globalForPool._controlSingletonPool ?? new pg.Pool(controlPoolSettings(CONTROL_SINGLETON_APP));
// Only so that the outage test cannot crash the app through the control.
pool.on("error", () => {});

if (process.env.NODE_ENV !== "production") globalForPool._controlSingletonPool = pool;
