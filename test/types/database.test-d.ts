/**
 * Type tests (run by vitest's typecheck mode and `npm run typecheck`):
 * `req.db` / `req.dbClient`, `connect()`, `route()` context and
 * `transaction()` are typed per adapter, and `database` fits every router.
 */
import express from "express";
import type { Db, MongoClient } from "mongodb";
import type { Pool as MysqlPool, PoolConnection as MysqlConnection } from "mysql2/promise";
import type { NextApiRequest, NextApiResponse } from "next";
import type { NextRequest } from "next/server";
import { createEdgeRouter, createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { Pool, PoolClient } from "pg";
import { describe, expectTypeOf, it } from "vitest";
import { createDatabase, defineAdapter, type DatabaseRequest, type DatabaseStats, type HealthReport } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";

const pgDb = createDatabase(pg({ connectionString: process.env.DATABASE_URL, max: 5 }));
const mysqlDb = createDatabase(mysql2({ uri: process.env.MYSQL_URL, connectionLimit: 5 }));
const mongoDb = createDatabase(mongodb({ url: process.env.MONGODB_URI, dbName: "app", maxPoolSize: 5 }));

describe("req.db and req.dbClient per adapter", () => {
  it("pg: the Pool", () => {
    expectTypeOf<DatabaseRequest<typeof pgDb>>().toEqualTypeOf<{ db: Pool; dbClient: Pool }>();
  });
  it("mysql2: the promise Pool", () => {
    expectTypeOf<DatabaseRequest<typeof mysqlDb>>().toEqualTypeOf<{ db: MysqlPool; dbClient: MysqlPool }>();
  });
  it("mongodb: Db and MongoClient", () => {
    expectTypeOf<DatabaseRequest<typeof mongoDb>>().toEqualTypeOf<{ db: Db; dbClient: MongoClient }>();
  });
  it("a custom adapter: what its connect and db return", () => {
    class Prisma {
      $disconnect() {}
      user = { findMany: async () => [] as string[] };
    }
    const custom = createDatabase(defineAdapter({ kind: "prisma", connect: async () => new Prisma(), close: (p) => p.$disconnect() }));
    expectTypeOf<DatabaseRequest<typeof custom>>().toEqualTypeOf<{ db: Prisma; dbClient: Prisma }>();
    const withDb = createDatabase(defineAdapter({ kind: "x", connect: () => ({ inner: 1 as const }), db: (c) => c.inner, close: () => {} }));
    expectTypeOf<DatabaseRequest<typeof withDb>["db"]>().toEqualTypeOf<1>();
  });
});

describe("connect(), stats(), health()", () => {
  it("are typed", async () => {
    expectTypeOf(pgDb.connect).returns.resolves.toEqualTypeOf<{ client: Pool; db: Pool }>();
    expectTypeOf(mongoDb.connect).returns.resolves.toEqualTypeOf<{ client: MongoClient; db: Db }>();
    expectTypeOf(pgDb.stats()).toEqualTypeOf<DatabaseStats>();
    expectTypeOf(pgDb.health).returns.resolves.toEqualTypeOf<HealthReport>();
    expectTypeOf(pgDb.close).returns.resolves.toBeVoid();
  });
});

describe("transaction()", () => {
  it("exists for SQL adapters with the driver's connection type", () => {
    void pgDb.transaction(async (tx) => {
      expectTypeOf(tx).toEqualTypeOf<PoolClient>();
      return 1;
    });
    void mysqlDb.transaction(async (tx) => {
      expectTypeOf(tx).toEqualTypeOf<MysqlConnection>();
    });
    expectTypeOf(pgDb.transaction(async () => "x" as const)).resolves.toEqualTypeOf<"x">();
  });
  it("does not exist for MongoDB", () => {
    // @ts-expect-error MongoDB transactions need a session; there is no transaction() here.
    void mongoDb.transaction;
  });
});

describe("route(): App Router handlers (Next 15/16: params is a Promise)", () => {
  it("gives db, dbClient and typed params", () => {
    const GET = pgDb.route<{ id: string }>(async (_req, { db, dbClient, params }) => {
      expectTypeOf(db).toEqualTypeOf<Pool>();
      expectTypeOf(dbClient).toEqualTypeOf<Pool>();
      expectTypeOf(params).toEqualTypeOf<Promise<{ id: string }>>();
      return Response.json({ id: (await params).id });
    });
    expectTypeOf(GET).parameters.toEqualTypeOf<[Request, { params: Promise<{ id: string }> }]>();
    expectTypeOf(GET).returns.resolves.toEqualTypeOf<Response>();
  });
  it("keeps NextRequest when the handler asks for it", () => {
    const POST = mongoDb.route(async (req: NextRequest, { db }) => {
      expectTypeOf(db).toEqualTypeOf<Db>();
      return Response.json({ path: req.nextUrl.pathname });
    });
    expectTypeOf(POST).parameter(0).toEqualTypeOf<NextRequest>();
  });
  it("rejects a handler that does not return a Response", () => {
    // @ts-expect-error a route handler must return a Response
    pgDb.route(async () => 42);
  });
});

describe("api(): Pages Router API routes", () => {
  it("gives req.db with the Next.js request type", () => {
    const handler = pgDb.api(async (req: NextApiRequest & DatabaseRequest<typeof pgDb>, res: NextApiResponse) => {
      expectTypeOf(req.db).toEqualTypeOf<Pool>();
      expectTypeOf(req.query).toEqualTypeOf<NextApiRequest["query"]>();
      res.json(await req.db.query("SELECT 1"));
    });
    expectTypeOf(handler).parameter(0).toMatchTypeOf<NextApiRequest>();
  });
  it("infers req.db and a Next-like res without annotations", () => {
    const route = mysqlDb.api(async (req, res) => {
      expectTypeOf(req.db).toEqualTypeOf<MysqlPool>();
      expectTypeOf(req.query).toEqualTypeOf<NextApiRequest["query"]>();
      res.status(200).json({ ok: true });
    });
    // Next.js calls the default export with its own request and response types.
    const asNextHandler: (req: NextApiRequest, res: NextApiResponse) => unknown = route;
    void asNextHandler;
  });
});

describe("database fits every router as middleware", () => {
  it("next-connect v1 createRouter", () => {
    const router = createRouter<NextApiRequest & DatabaseRequest<typeof pgDb>, NextApiResponse>();
    router.use(pgDb).get(async (req, res) => {
      expectTypeOf(req.db).toEqualTypeOf<Pool>();
      res.json((await req.db.query("SELECT 1")).rows);
    });
  });
  it("next-connect v1 createEdgeRouter", () => {
    const router = createEdgeRouter<NextRequest & DatabaseRequest<typeof mongoDb>, { params: Promise<{ id: string }> }>();
    router.use(mongoDb).get(async (req) => {
      expectTypeOf(req.db).toEqualTypeOf<Db>();
      return Response.json(await req.db.collection("notes").find().toArray());
    });
  });
  it("next-connect v0 and Express", () => {
    nextConnectV0<NextApiRequest & DatabaseRequest<typeof mysqlDb>, NextApiResponse>().use(mysqlDb);
    express().use(mysqlDb);
  });
  it("database.onError.with(appOnError) keeps the app handler's own type, for v0's onError and Express", () => {
    const appOnError = (err: Error, _req: NextApiRequest, res: NextApiResponse, _next: () => void) => res.status(500).json({ error: err.message });
    const composed = pgDb.onError.with(appOnError);
    expectTypeOf(composed).toEqualTypeOf(appOnError);
    nextConnectV0<NextApiRequest, NextApiResponse>({ onError: pgDb.onError.with(appOnError) }).use(pgDb);
    nextConnectV0<NextApiRequest, NextApiResponse>({ onError: pgDb.onError });
    express().use(pgDb.onError.with((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: err.message })));
  });
});
