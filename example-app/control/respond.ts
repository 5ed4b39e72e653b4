// CONTROL ONLY (see control/README.md): one query on a control pool, as JSON.
import type pg from "pg";
import { controlsEnabled } from "./pool-settings";

export async function controlQuery(pool: pg.Pool, extra: Record<string, unknown> = {}) {
  if (!controlsEnabled()) return { status: 404, body: { error: "controls_need_postgres" } };
  try {
    await pool.query("SELECT 1");
    return { status: 200, body: { ok: true, poolOpen: pool.totalCount, ...extra } };
  } catch {
    return { status: 503, body: { error: "control_pool_failed" } };
  }
}
