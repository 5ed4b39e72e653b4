// CONTROL ONLY (see control/README.md). The same settings as the real pool in
// lib/database.ts, so the server-side counts compare like with like.
import { POOL_MAX } from "@/lib/driver";

export const CONTROL_SINGLETON_APP = "next-db-connect-example-control-singleton";
export const CONTROL_MODULE_SCOPE_APP = "next-db-connect-example-control-module-scope";

export function controlPoolSettings(applicationName: string) {
  return { connectionString: process.env.DATABASE_URL, max: POOL_MAX, idleTimeoutMillis: 0, application_name: applicationName };
}

/** The controls need PostgreSQL; with another driver their routes answer 404. */
export const controlsEnabled = () => Boolean(process.env.DATABASE_URL);
