// Strategy d: this package through next-connect, `router.use(database)`,
// the way its README shows a Pages Router API route.
import type { NextApiRequest, NextApiResponse } from "next";
import { createRouter } from "next-connect";
import type { DatabaseRequest } from "next-db-connect";
import { pagesDatabases } from "../../../lib/databases";
import { mongoQuery, mysqlQuery, pgQuery } from "../../../lib/query";
import { answerPages } from "../../../lib/respond";
import { isDriver } from "../../../lib/settings";

type Req<D> = NextApiRequest & DatabaseRequest<D>;

const routers = {
  pg: createRouter<Req<typeof pagesDatabases.pg>, NextApiResponse>()
    .use(pagesDatabases.pg)
    .get((req, res) => answerPages(res, () => pgQuery(req.db))),
  mysql2: createRouter<Req<typeof pagesDatabases.mysql2>, NextApiResponse>()
    .use(pagesDatabases.mysql2)
    .get((req, res) => answerPages(res, () => mysqlQuery(req.db))),
  mongodb: createRouter<Req<typeof pagesDatabases.mongodb>, NextApiResponse>()
    .use(pagesDatabases.mongodb)
    .get((req, res) => answerPages(res, () => mongoQuery(req.db))),
};

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { driver } = req.query;
  if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
  return routers[driver].run(req as never, res);
}
