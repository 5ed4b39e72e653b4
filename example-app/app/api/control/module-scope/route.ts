// CONTROL ONLY, exists to show the problem (see control/README.md): a route
// on a module-scope pool, which every dev hot reload of that module replaces.
import { evaluation, pool } from "@/control/module-scope-pool";
import { controlQuery } from "@/control/respond";

export const dynamic = "force-dynamic";

export async function GET() {
  const { status, body } = await controlQuery(pool, { evaluation });
  return Response.json(body, { status });
}
