// Strategy c-nc: c's hand-written globalThis singleton behind a hand-written
// `req.db` middleware in a next-connect v1 router: how an app is written
// before it adopts the package. d differs from it only by
// `.use(database)` in place of the middleware below, so d/c-nc is the
// package's own cost, with next-connect's on both sides.
import type { Db } from "mongodb";
import type { Pool as MysqlPool } from "mysql2/promise";
import type { NextApiRequest, NextApiResponse } from "next";
import { createRouter } from "next-connect";
import type { Pool as PgPool } from "pg";
import { globalPools } from "../../../lib/global-singleton";
import { mongoQuery, mysqlQuery, pgQuery } from "../../../lib/query";
import { answerPages } from "../../../lib/respond";
import { isDriver } from "../../../lib/settings";

type Req<D> = NextApiRequest & { db: D };

const pools = globalPools("c-nc");

const routers = {
  pg: createRouter<Req<PgPool>, NextApiResponse>()
    .use(async (req, _res, next) => {
      req.db = await pools.pg();
      return next();
    })
    .get((req, res) => answerPages(res, () => pgQuery(req.db))),
  mysql2: createRouter<Req<MysqlPool>, NextApiResponse>()
    .use(async (req, _res, next) => {
      req.db = await pools.mysql2();
      return next();
    })
    .get((req, res) => answerPages(res, () => mysqlQuery(req.db))),
  mongodb: createRouter<Req<Db>, NextApiResponse>()
    .use(async (req, _res, next) => {
      req.db = await pools.mongodb();
      return next();
    })
    .get((req, res) => answerPages(res, () => mongoQuery(req.db))),
};

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { driver } = req.query;
  if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
  return routers[driver].run(req as never, res);
}
