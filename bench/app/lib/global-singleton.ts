// Strategies c, c-app and c-nc: the hand-written singleton of the usual Next.js
// examples, a connect promise cached on globalThis. It is what the package is
// measured against: same pool size, no lifecycle bookkeeping. c and c-app
// await it in the handler; c-nc hands the pool to a hand-written next-connect
// middleware (`req.db`), as apps do before they adopt the package.
// (Like the examples, it caches a rejected promise forever; the benchmark's
// databases stay up, so that flaw does not show here.)
import { MongoClient, type Db } from "mongodb";
import mysql from "mysql2/promise";
import pg from "pg";
import { mongoQuery, mysqlQuery, pgQuery } from "./query";
import { MONGO_DB, POOL_MAX, urlFor, type Driver } from "./settings";

interface Cached {
  pg?: Promise<pg.Pool>;
  mysql2?: Promise<mysql.Pool>;
  mongodb?: Promise<Db>;
}

type Slot = "c" | "c-app" | "c-nc";
const store = globalThis as typeof globalThis & { __benchSingletons?: Partial<Record<Slot, Cached>> };

function cached(slot: Slot): Cached {
  store.__benchSingletons ??= {};
  return (store.__benchSingletons[slot] ??= {});
}

async function connectPg(slot: Slot): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: urlFor("pg", slot), max: POOL_MAX });
  pool.on("error", () => {});
  await pool.query("SELECT 1");
  return pool;
}

async function connectMysql(slot: Slot): Promise<mysql.Pool> {
  const pool = mysql.createPool({ uri: urlFor("mysql2", slot), connectionLimit: POOL_MAX });
  await pool.query("SELECT 1");
  return pool;
}

async function connectMongo(slot: Slot): Promise<Db> {
  const client = new MongoClient(urlFor("mongodb", slot), { maxPoolSize: POOL_MAX });
  await client.connect();
  return client.db(MONGO_DB);
}

/** c uses slot "c" (Pages Router), c-app slot "c-app" (App Router): separate pools, separately counted. */
export function globalSingleton(slot: Slot): Record<Driver, () => Promise<unknown>> {
  const c = cached(slot);
  return {
    pg: async () => pgQuery(await (c.pg ??= connectPg(slot))),
    mysql2: async () => mysqlQuery(await (c.mysql2 ??= connectMysql(slot))),
    mongodb: async () => mongoQuery(await (c.mongodb ??= connectMongo(slot))),
  };
}

/**
 * c-nc's getters: the cached pool (MongoDB: the Db) itself, for a middleware
 * to put on `req.db`. Same cache and connect code as c, its own slot and pools.
 */
export function globalPools(slot: Slot) {
  const c = cached(slot);
  return {
    pg: () => (c.pg ??= connectPg(slot)),
    mysql2: () => (c.mysql2 ??= connectMysql(slot)),
    mongodb: () => (c.mongodb ??= connectMongo(slot)),
  };
}
