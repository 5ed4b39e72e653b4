/**
 * Type tests for the libraries on top of the managed pool: with a mapping,
 * `req.db` / `db` is what the mapping returns (Drizzle, Kysely) while
 * `req.dbClient` stays the pool; mongoose's `db` is a Connection.
 */
import type { NextApiRequest, NextApiResponse } from "next";
import { createRouter } from "next-connect";
import { drizzle as drizzleMysql, type MySql2Database } from "drizzle-orm/mysql2";
import { drizzle as drizzlePg, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { Kysely, MysqlDialect, PostgresDialect } from "kysely";
import type { Connection } from "mongoose";
import type { MongoClient } from "mongodb";
import type { Pool as MysqlPool } from "mysql2/promise";
import type { Pool } from "pg";
import { describe, expectTypeOf, it } from "vitest";
import { createDatabase, type DatabaseRequest } from "../../index.js";
import { mongoose } from "../../src/adapters/mongoose.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";

interface Tables {
  notes: { id: number; text: string };
}

const pgDrizzle = createDatabase(pg({ connectionString: process.env.DATABASE_URL }, { db: (pool) => drizzlePg(pool) }));
const pgKysely = createDatabase(pg({ connectionString: process.env.DATABASE_URL }, { db: (pool) => new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }) }));
const mysqlDrizzle = createDatabase(mysql2({ uri: process.env.MYSQL_URL }, { db: (pool) => drizzleMysql(pool) }));
const mysqlKysely = createDatabase(mysql2({ uri: process.env.MYSQL_URL }, { db: (pool) => new Kysely<Tables>({ dialect: new MysqlDialect({ pool: pool.pool }) }) }));
const viaMongoose = createDatabase(mongoose({ uri: process.env.MONGODB_URI, dbName: "app" }));

describe("a mapping types req.db end to end; req.dbClient stays the pool", () => {
  it("pg + Drizzle", () => {
    expectTypeOf<DatabaseRequest<typeof pgDrizzle>["db"]>().toEqualTypeOf<NodePgDatabase<Record<string, never>> & { $client: Pool }>();
    expectTypeOf<DatabaseRequest<typeof pgDrizzle>["dbClient"]>().toEqualTypeOf<Pool>();
  });
  it("pg + Kysely", () => {
    expectTypeOf<DatabaseRequest<typeof pgKysely>>().toEqualTypeOf<{ db: Kysely<Tables>; dbClient: Pool }>();
  });
  it("mysql2 + Drizzle", () => {
    expectTypeOf<DatabaseRequest<typeof mysqlDrizzle>["db"]>().toEqualTypeOf<MySql2Database<Record<string, never>> & { $client: MysqlPool }>();
    expectTypeOf<DatabaseRequest<typeof mysqlDrizzle>["dbClient"]>().toEqualTypeOf<MysqlPool>();
  });
  it("mysql2 + Kysely (MysqlDialect takes the callback pool, pool.pool)", () => {
    expectTypeOf<DatabaseRequest<typeof mysqlKysely>>().toEqualTypeOf<{ db: Kysely<Tables>; dbClient: MysqlPool }>();
  });
  it("mongoose: a Connection and the MongoClient", () => {
    expectTypeOf<DatabaseRequest<typeof viaMongoose>>().toEqualTypeOf<{ db: Connection; dbClient: MongoClient }>();
  });
  it("connect(), route() and transaction() carry the mapped type", () => {
    expectTypeOf(pgKysely.connect()).resolves.toEqualTypeOf<{ client: Pool; db: Kysely<Tables> }>();
    pgKysely.route(async (_req, { db, dbClient }) => {
      expectTypeOf(db).toEqualTypeOf<Kysely<Tables>>();
      expectTypeOf(dbClient).toEqualTypeOf<Pool>();
      return Response.json(await db.selectFrom("notes").select(["id", "text"]).execute());
    });
    expectTypeOf(pgDrizzle.transaction).toBeFunction();
  });
  it("next-connect v1 with a typed request", () => {
    type Req = NextApiRequest & DatabaseRequest<typeof pgKysely>;
    createRouter<Req, NextApiResponse>()
      .use(pgKysely)
      .get(async (req, res) => res.json(await req.db.selectFrom("notes").selectAll().execute()));
  });
  it("a mapping that is not a function is a type error", () => {
    // @ts-expect-error db must be a function of the pool
    pg({}, { db: "drizzle" });
  });
});
