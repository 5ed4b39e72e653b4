// The JSON the /status page polls: the pool's own figures, the server's
// count of this app's connections, and which entry points used the pool.
import { database, driver } from "@/lib/database";
import { serverConnectionCount } from "@/lib/server-connections";
import { databaseModuleEvaluations, entryUses, recordUse } from "@/lib/usage";

export const dynamic = "force-dynamic";

export async function GET() {
  recordUse("app/api/status (route handler)");
  // Never connects on its own account: the page must show an idle or failed pool as it is.
  const before = database.stats();
  const server =
    before.state === "connected"
      ? await database
          .connect()
          .then(({ db }) => serverConnectionCount(driver, db))
          .catch(() => ({ count: null, scope: "not available" }))
      : { count: null, scope: "not connected" };
  return Response.json(
    {
      driver,
      pid: process.pid,
      at: new Date().toISOString(),
      stats: database.stats(),
      serverConnections: server.count,
      serverConnectionsScope: server.scope,
      databaseModuleEvaluations: databaseModuleEvaluations(),
      entries: entryUses(),
    },
    { headers: { "Cache-Control": "no-store" } },
  );
}
