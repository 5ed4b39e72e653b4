// Strategy e: this package through database.route(), an App Router route handler.
import { appDatabases } from "../../../../lib/databases";
import { mongoQuery, mysqlQuery, pgQuery } from "../../../../lib/query";
import { answerApp } from "../../../../lib/respond";
import { isDriver } from "../../../../lib/settings";

export const dynamic = "force-dynamic";

const handlers = {
  pg: appDatabases.pg.route((_req, { db }) => answerApp(() => pgQuery(db))),
  mysql2: appDatabases.mysql2.route((_req, { db }) => answerApp(() => mysqlQuery(db))),
  mongodb: appDatabases.mongodb.route((_req, { db }) => answerApp(() => mongoQuery(db))),
};

export async function GET(req: Request, ctx: { params: Promise<{ driver: string }> }): Promise<Response> {
  const { driver } = await ctx.params;
  if (!isDriver(driver)) return Response.json({ error: "unknown_driver" }, { status: 404 });
  return handlers[driver](req, ctx);
}
