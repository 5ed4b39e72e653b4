// Health check for a load balancer or uptime monitor: database.health()
// pings within a timeout and never throws.
import { database } from "@/lib/database";
import { recordUse } from "@/lib/usage";

export const dynamic = "force-dynamic";

export async function GET() {
  recordUse("app/api/health (route handler)");
  const report = await database.health();
  const { ok, kind, latencyMs, error } = report;
  const { state, connects, failures } = report.stats;
  return Response.json(
    { ok, kind, latencyMs, error, state, connects, failures },
    { status: ok ? 200 : 503, headers: { "Cache-Control": "no-store", ...(ok ? {} : { "Retry-After": "1" }) } },
  );
}
