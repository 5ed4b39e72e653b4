// CONTROL ONLY, exists to show the problem (see control/README.md): the
// NODE_ENV-guarded singleton used from the App Router bundle.
import { pool } from "@/control/next-style-singleton";
import { controlQuery } from "@/control/respond";

export const dynamic = "force-dynamic";

export async function GET() {
  const { status, body } = await controlQuery(pool, { bundle: "app" });
  return Response.json(body, { status });
}
