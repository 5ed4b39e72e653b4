// Strategies d and d-noguard: this package through next-connect,
// `router.use(database)`, the way its README shows a Pages Router API route.
// One function builds both, so they differ only in the databases' options.
import type { NextApiRequest, NextApiResponse } from "next";
import { createRouter } from "next-connect";
import type { DatabaseRequest } from "next-db-connect";
import type { PackageDatabases } from "./databases";
import { mongoQuery, mysqlQuery, pgQuery } from "./query";
import { answerPages } from "./respond";
import { isDriver } from "./settings";

type Req<D> = NextApiRequest & DatabaseRequest<D>;

export function packageRouteHandler(databases: PackageDatabases) {
  const routers = {
    pg: createRouter<Req<typeof databases.pg>, NextApiResponse>()
      .use(databases.pg)
      .get((req, res) => answerPages(res, () => pgQuery(req.db))),
    mysql2: createRouter<Req<typeof databases.mysql2>, NextApiResponse>()
      .use(databases.mysql2)
      .get((req, res) => answerPages(res, () => mysqlQuery(req.db))),
    mongodb: createRouter<Req<typeof databases.mongodb>, NextApiResponse>()
      .use(databases.mongodb)
      .get((req, res) => answerPages(res, () => mongoQuery(req.db))),
  };
  return function handler(req: NextApiRequest, res: NextApiResponse) {
    const { driver } = req.query;
    if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
    return routers[driver].run(req as never, res);
  };
}
