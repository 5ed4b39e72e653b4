/**
 * The same handlers under every router the package promises to work with:
 * next-connect v1 (createRouter, createEdgeRouter), next-connect v0, Express,
 * database.api() and database.route(), over real HTTP against real PostgreSQL
 * and MariaDB. Also: with the database down, each answers 503 by itself.
 */
import express from "express";
import { createEdgeRouter, createRouter } from "next-connect";
import nextConnectV0 from "next-connect-v0";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Pool as PgPool } from "pg";
import type { Pool as MysqlPool } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase, type DatabaseRequest } from "../index.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { mongodb } from "../src/adapters/mongodb.js";
import type { Db } from "mongodb";
import { mongoTarget } from "./support/mongodb-target.js";
import { burst, serveNode, serveWeb, type TestServer } from "./support/http.js";
import { captureLogger } from "./support/logger.js";
import { createMysqlUser, mysqlAdminQuery, type MysqlTestUser } from "./support/mysql.js";
import { postgresUrl, uniqueName, withUrl } from "./support/postgres.js";

type Notes = { add(text: string): Promise<void>; list(): Promise<string[]> };

interface Driver {
  label: string;
  setup(): Promise<{ database: ReturnType<typeof makeDatabase>; notes: (db: any) => Notes; downDatabase: ReturnType<typeof makeDatabase>; teardown(): Promise<void> }>;
}

function makeDatabase(adapter: ReturnType<typeof pg> | ReturnType<typeof mysql2> | ReturnType<typeof mongodb>, name: string) {
  return createDatabase(adapter as ReturnType<typeof pg>, { name, logger: captureLogger(), retry: { cooldownMs: 2000 } });
}

const table = uniqueName("ndc_notes");

const drivers: Driver[] = [
  {
    label: "pg",
    async setup() {
      const url = await postgresUrl();
      const database = makeDatabase(pg({ connectionString: url, max: 4 }), uniqueName("routers_pg"));
      const { db } = await database.connect();
      await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, text text NOT NULL)`);
      // A port where nothing listens: the database is "down".
      const downDatabase = makeDatabase(pg({ connectionString: withUrl(url, { port: 1 }) }), uniqueName("routers_pg_down"));
      return {
        database,
        downDatabase,
        notes: (pool: PgPool) => ({
          add: async (text) => void (await pool.query(`INSERT INTO ${table} (text) VALUES ($1)`, [text])),
          list: async () => (await pool.query(`SELECT text FROM ${table} ORDER BY id`)).rows.map((r) => r.text),
        }),
        teardown: async () => void (await db.query(`DROP TABLE ${table}`)),
      };
    },
  },
  {
    label: "mysql2",
    async setup() {
      const user: MysqlTestUser = await createMysqlUser("ndc_routers");
      const database = makeDatabase(mysql2({ uri: user.url, connectionLimit: 4 }), uniqueName("routers_mysql"));
      await mysqlAdminQuery(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(200) NOT NULL)`);
      const downDatabase = makeDatabase(mysql2({ uri: "mysql://root@127.0.0.1:1/test" }), uniqueName("routers_mysql_down"));
      return {
        database,
        downDatabase,
        notes: (pool: MysqlPool) => ({
          add: async (text) => void (await pool.query(`INSERT INTO ${table} (text) VALUES (?)`, [text])),
          list: async () => ((await pool.query(`SELECT text FROM ${table} ORDER BY id`))[0] as Array<{ text: string }>).map((r) => r.text),
        }),
        teardown: async () => {
          await mysqlAdminQuery(`DROP TABLE ${table}`);
          await user.drop();
        },
      };
    },
  },
  {
    label: "mongodb",
    async setup() {
      const target = await mongoTarget();
      const dbName = uniqueName("ndc_routers");
      const database = makeDatabase(mongodb({ url: target.uri, dbName, maxPoolSize: 4, serverSelectionTimeoutMS: 2000 }), uniqueName("routers_mongo"));
      const downDatabase = makeDatabase(
        mongodb({ url: "mongodb://127.0.0.1:1/down", serverSelectionTimeoutMS: 300 }),
        uniqueName("routers_mongo_down"),
      );
      return {
        database,
        downDatabase,
        notes: (db: Db) => ({
          add: async (text) => void (await db.collection("notes").insertOne({ text, at: Date.now() })),
          list: async () => (await db.collection("notes").find().sort({ at: 1 }).toArray()).map((d) => d.text as string),
        }),
        teardown: async () => {
          const { db } = await database.connect();
          await (db as unknown as Db).dropDatabase();
          await closeAll();
          await target.close();
        },
      };
    },
  },
];

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

describe.each(drivers)("routers with $label", (driver) => {
  let ctx: Awaited<ReturnType<Driver["setup"]>>;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    ctx = await driver.setup();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await ctx.teardown();
    await closeAll();
  });

  /** One Node-style handler pair, written once, as an existing API would have it. */
  function nodeHandlers() {
    type Req = IncomingMessage & DatabaseRequest<typeof ctx.database> & { body?: { text: string } };
    return {
      post: async (req: Req, res: ServerResponse) => {
        let raw = "";
        for await (const chunk of req) raw += chunk;
        await ctx.notes(req.db).add(JSON.parse(raw).text);
        sendJson(res, 201, { ok: true, hasClient: req.dbClient !== undefined });
      },
      get: async (req: Req, res: ServerResponse) => sendJson(res, 200, await ctx.notes(req.db).list()),
    };
  }

  async function roundTrip(base: string, text: string) {
    const post = await fetch(`${base}/notes`, { method: "POST", body: JSON.stringify({ text }) });
    expect(post.status).toBe(201);
    const list = await fetch(`${base}/notes`);
    expect(list.status).toBe(200);
    expect(await list.json()).toContain(text);
  }

  it("next-connect v1 createRouter: router.use(database) sets req.db", async () => {
    const { post, get } = nodeHandlers();
    const router = createRouter<any, ServerResponse>().use(ctx.database).post(post).get(get);
    const server = await serveNode((req, res) => void router.run(req, res).catch((e) => sendJson(res, 500, { e: String(e) })));
    servers.push(server);
    await roundTrip(server.url, `v1-${driver.label}`);
  });

  it("next-connect v0: nextConnect().use(database), handlers unchanged", async () => {
    const { post, get } = nodeHandlers();
    const handler = nextConnectV0<any, ServerResponse>().use(ctx.database).post("/notes", post).get("/notes", get);
    const server = await serveNode((req, res) => void handler(req, res));
    servers.push(server);
    await roundTrip(server.url, `v0-${driver.label}`);
  });

  it("Express: app.use(database)", async () => {
    const { post, get } = nodeHandlers();
    const app = express();
    app.use(ctx.database);
    app.post("/notes", (req, res, next) => void post(req as never, res).catch(next));
    app.get("/notes", (req, res, next) => void get(req as never, res).catch(next));
    const server = await serveNode(app);
    servers.push(server);
    await roundTrip(server.url, `express-${driver.label}`);
  });

  it("database.api(handler) without next-connect", async () => {
    const { post, get } = nodeHandlers();
    const route = ctx.database.api<IncomingMessage, ServerResponse>(async (req, res) => (req.method === "POST" ? post(req, res) : get(req, res)));
    const server = await serveNode((req, res) => void route(req, res));
    servers.push(server);
    await roundTrip(server.url, `api-${driver.label}`);
  });

  it("database.route(handler) for the App Router, with Promise params", async () => {
    const GET = ctx.database.route<{ text: string }>(async (_req, { db, params }) => {
      const { text } = await params;
      await ctx.notes(db).add(text);
      return Response.json(await ctx.notes(db).list());
    });
    const server = await serveWeb((req) => GET(req, { params: Promise.resolve({ text: new URL(req.url).searchParams.get("t")! }) }));
    servers.push(server);
    const res = await fetch(`${server.url}/notes?t=route-${driver.label}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toContain(`route-${driver.label}`);
  });

  it("next-connect createEdgeRouter: router.use(database) in a route handler", async () => {
    // Writes its own row through req.db and reads it back: it does not depend on what earlier tests inserted.
    const text = `edge-${driver.label}`;
    const router = createEdgeRouter<Request & DatabaseRequest<typeof ctx.database>, { params: Promise<object> }>()
      .use(ctx.database)
      .get(async (req) => {
        await ctx.notes(req.db).add(new URL(req.url).searchParams.get("t")!);
        return Response.json({ notes: await ctx.notes(req.db).list(), hasClient: req.dbClient !== undefined });
      });
    const server = await serveWeb((req) => router.run(req as never, { params: Promise.resolve({}) }) as Promise<Response>);
    servers.push(server);
    const res = await fetch(`${server.url}/notes?t=${text}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.hasClient).toBe(true);
    expect(body.notes).toContain(text);
  });

  describe("database down: 503 JSON with Retry-After, no error handler needed", () => {
    const expect503 = (r: { status: number; body: string; retryAfter: string | null }) => {
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ error: "database_unavailable" });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    };
    const handler = async (_req: unknown, res: ServerResponse) => sendJson(res, 200, { reached: true });

    it("v1, v0, Express and api() all answer 503 and never reach the handler", async () => {
      const down = ctx.downDatabase;
      const v1 = createRouter<any, ServerResponse>().use(down).get(handler);
      const v0 = nextConnectV0<any, ServerResponse>().use(down).get(handler);
      const app = express().use(down).get("/", handler as never);
      const api = down.api(handler);
      const targets = [
        await serveNode((req, res) => void v1.run(req, res)),
        await serveNode((req, res) => void v0(req, res)),
        await serveNode(app),
        await serveNode((req, res) => void api(req, res)),
      ];
      servers.push(...targets);
      for (const target of targets) {
        for (const r of await burst(`${target.url}/`, 5)) expect503(r);
      }
    });

    it("route() and createEdgeRouter answer 503 Responses", async () => {
      const down = ctx.downDatabase;
      const GET = down.route(async () => Response.json({ reached: true }));
      const edge = createEdgeRouter<Request, unknown>().use(down).get(() => Response.json({ reached: true }));
      const targets = [
        await serveWeb((req) => GET(req, { params: Promise.resolve({}) })),
        await serveWeb((req) => edge.run(req, {}) as Promise<Response>),
      ];
      servers.push(...targets);
      for (const target of targets) {
        for (const r of await burst(`${target.url}/`, 5)) expect503(r);
      }
    });
  });
});
