// Strategy b: a pool created when the module is evaluated. In production with
// one bundle this is one pool per process; in dev every hot reload evaluates
// it again and the old pool is never closed (see bench/memory/).
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pg from "pg";
import { mongoQuery, mysqlQuery, pgQuery } from "./query";
import { MONGO_DB, POOL_MAX, urlFor, type Driver } from "./settings";

const pgPool = new pg.Pool({ connectionString: urlFor("pg", "b"), max: POOL_MAX });
pgPool.on("error", () => {});
const mysqlPool = mysql.createPool({ uri: urlFor("mysql2", "b"), connectionLimit: POOL_MAX });
// MongoClient connects itself on the first operation.
const mongoClient = new MongoClient(urlFor("mongodb", "b"), { maxPoolSize: POOL_MAX });

export const modulePool: Record<Driver, () => Promise<unknown>> = {
  pg: () => pgQuery(pgPool),
  mysql2: () => mysqlQuery(mysqlPool),
  mongodb: () => mongoQuery(mongoClient.db(MONGO_DB)),
};
