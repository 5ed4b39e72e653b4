/**
 * next-db-connect/mongoose, with mongoose 8 (driver 6.x) and 9 (driver 7.x),
 * against the MongoDB wire-protocol server over TCP:
 *
 * - models on `req.db` (a Connection of this definition's own), CRUD through
 *   next-connect v1, `api()` and `route()`; mongoose's own errors
 *   (`ValidationError`) keep the app's status;
 * - two definitions of one configuration (two Next.js bundles) each define
 *   their own `Note` schema without OverwriteModelError, over one client:
 *   one monitoring connection on the server;
 * - an outage (the server stops): 503 with Retry-After, fast, and recovery
 *   once it is back, without a restart. Control: the cached `mongoose.connect()`
 *   of Next.js's with-mongodb-mongoose example answers the driver's error as
 *   the app's 500 without Retry-After (mongoose 9), or waits 30 s on server
 *   selection first (mongoose 8);
 * - stats from the pool, health(), close() ending every connection.
 */
import { createRequire } from "node:module";
import mongoose9 from "mongoose";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, DatabaseConfigError } from "../index.js";
import { mongoose as mongooseAdapter } from "../src/adapters/mongoose.js";
import { PoolCounters } from "../src/adapters/mongodb-monitor.js";
import { notServedDuringClose } from "./support/close-race.js";
import { captureLogger } from "./support/logger.js";
import type { MongoWireServer } from "./support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { uniqueName } from "./support/postgres.js";
import { serveRouters, timedGet } from "./support/routes.js";
import { serveNode } from "./support/http.js";
import { waitFor } from "./support/wait.js";

type Mongoose = typeof mongoose9;
// mongoose 8's typings clash with 9's ambient module: load it untyped.
const mongoose8 = createRequire(import.meta.url)("mongoose-v8") as Mongoose;

const majors = [
  { label: "mongoose 8", m: mongoose8, driverMajor: "6.", setup: { mongoose: mongoose8 } },
  { label: "mongoose 9", m: mongoose9, driverMajor: "7.", setup: undefined },
];

let server: MongoWireServer;
beforeAll(async () => {
  server = (await wireServerTarget()).server;
});
afterAll(async () => {
  await server?.stop();
});

function uri(appName: string, db = "ndc_mongoose"): string {
  return `mongodb://${server.host}:${server.port}/${db}?appName=${appName}`;
}

/** Clients of one appName, counted on the server: each MongoClient keeps one monitoring connection (no commands but hello). */
function clientsOnServer(appName: string): number {
  return server.connections().filter((c) => c.appName === appName && c.operations === 0).length;
}

// These count clients in the wire server's connection table and stop and start it: skipped under MONGODB_URI.
describe.skipIf(needsWireServer("connection table and stop()/start() (orm-mongoose)")).each(majors)("$label", ({ label, m, driverMajor, setup }) => {
  const suffix = label.replace(/\D/g, "");

  function noteSchema() {
    return new m.Schema({ text: { type: String, required: true }, done: { type: Boolean, default: false } }, { timestamps: true });
  }

  it("models on req.db: CRUD through next-connect, api() and route(); ValidationError keeps the app's status", async () => {
    const appName = uniqueName(`mongoose_crud_${suffix}`);
    const database = createDatabase(mongooseAdapter({ uri: uri(appName), dbName: `crud_${suffix}` }, setup), {
      name: appName,
      logger: captureLogger(),
    });
    const schema = noteSchema();
    let n = 0;
    const targets = await serveRouters(database, async (db, dbClient) => {
      const Note = db.model("Note", schema); // the same schema object: mongoose returns the model it compiled
      if (n === 3) return Note.create({ done: true }); // no text: mongoose's ValidationError
      const mine = `note-${++n}`;
      const created = await Note.create({ text: mine });
      await Note.updateOne({ _id: created._id }, { $set: { done: true } });
      const found = await Note.findById(created._id).lean();
      await Note.create({ text: `${mine}-gone` });
      await Note.deleteOne({ text: `${mine}-gone` });
      return { found, count: await Note.countDocuments(), buffering: db.config.bufferCommands, driver: dbClient.options?.metadata?.driver?.version ?? null };
    });
    try {
      for (const target of targets.all) {
        const res = await fetch(target.url);
        const body = (await res.json()) as { result: { found: { text: string; done: boolean }; buffering: boolean } };
        expect(res.status).toBe(200);
        expect(body.result.found).toMatchObject({ done: true });
        expect(body.result.buffering).toBe(false);
      }
      // What the routes wrote, read back with a bare driver of mongoose's own.
      const check = await m.createConnection(uri(`${appName}_check`, `crud_${suffix}`)).asPromise();
      const texts = (await check.db!.collection("notes").find().sort({ text: 1 }).toArray()).map((d) => d.text);
      await check.close();
      expect(texts).toEqual(["note-1", "note-2", "note-3"]);
      // mongoose's own error is the app's: a 500 from the handler, not a 503.
      expect((await fetch(targets.route.url)).status).toBe(500);
      // The client that talked is the one mongoose bundles.
      const mine = server.connections().filter((c) => c.appName === appName);
      expect(mine.every((c) => c.driverVersion?.startsWith(driverMajor))).toBe(true);
      const stats = database.stats();
      expect(stats).toMatchObject({ kind: "mongoose", state: "connected", connects: 1 });
      expect(stats.pool?.open).toBeGreaterThan(0);
      expect(await database.health()).toMatchObject({ ok: true, status: "up" });
      await database.close();
      expect(await waitFor(() => server.connections().filter((c) => c.appName === appName).length, (k) => k === 0)).toBe(0);
    } finally {
      await targets.close();
      await database.close();
    }
  });

  it("two definitions (two bundles) define their own Note schema over one client", async () => {
    const appName = uniqueName(`mongoose_bundles_${suffix}`);
    const options = { uri: uri(appName), dbName: `bundles_${suffix}` };
    const pagesBundle = createDatabase(mongooseAdapter(options, setup), { name: appName, logger: captureLogger() });
    const appBundle = createDatabase(mongooseAdapter(options, setup), { name: appName, logger: captureLogger() });
    const pagesSchema = noteSchema();
    const appSchema = noteSchema();
    try {
      const writes = Array.from({ length: 20 }, async (_, i) => {
        const { db } = await (i % 2 ? appBundle : pagesBundle).connect();
        const Note = db.model("Note", i % 2 ? appSchema : pagesSchema);
        await Note.create({ text: `w${i}` });
      });
      await Promise.all(writes);
      const a = await pagesBundle.connect();
      const b = await appBundle.connect();
      expect(a.client).toBe(b.client); // one MongoClient, one pool
      expect(a.db).not.toBe(b.db); // a Connection each: their models never clash
      expect(await a.db.model("Note", pagesSchema).countDocuments()).toBe(20);
      expect(pagesBundle.stats().connects).toBe(1);
      expect(clientsOnServer(appName)).toBe(1);
      // Control: the same two schemas on one shared Connection, as a module-level mongoose model would be.
      const shared = (await m.createConnection(uri(`${appName}_shared`), { dbName: `bundles_${suffix}` }).asPromise());
      try {
        shared.model("Note", pagesSchema);
        expect(() => shared.model("Note", appSchema)).toThrow(/OverwriteModelError|Cannot overwrite/);
      } finally {
        await shared.close();
      }
    } finally {
      await pagesBundle.close();
    }
  });

  it("outage: 503 with Retry-After at once, recovery after it; control: the with-mongodb-mongoose cached connect gives a 500 or waits on server selection", async () => {
    const appName = uniqueName(`mongoose_outage_${suffix}`);
    const database = createDatabase(mongooseAdapter({ uri: uri(appName), dbName: `outage_${suffix}` }, setup), {
      name: appName,
      logger: captureLogger(),
    });
    const schema = noteSchema();
    const targets = await serveRouters(database, async (db) => db.model("Note", schema).countDocuments());
    // CONTROL: Next.js's with-mongodb-mongoose lib/dbConnect, on a Mongoose instance of its own.
    const controlMongoose = new m.Mongoose();
    const cached: { conn: Mongoose | null; promise: Promise<Mongoose> | null } = { conn: null, promise: null };
    async function dbConnect(): Promise<Mongoose> {
      if (cached.conn) return cached.conn;
      if (!cached.promise) cached.promise = controlMongoose.connect(uri(`${appName}_control`, `outage_${suffix}`), { bufferCommands: false }) as Promise<Mongoose>;
      try {
        cached.conn = await cached.promise;
      } catch (e) {
        cached.promise = null;
        throw e;
      }
      return cached.conn;
    }
    const ControlNote = controlMongoose.model("Note", noteSchema());
    const control = await serveNode(async (_req, res) => {
      try {
        await dbConnect();
        res.end(JSON.stringify({ count: await ControlNote.countDocuments() }));
      } catch (e) {
        res.statusCode = 500;
        res.end(String(e));
      }
    });
    try {
      for (const url of [targets.v1.url, control.url]) expect((await timedGet(url)).status).toBe(200);
      await server.stop();
      // Ours: the driver's monitor tells the package; requests get 503 with Retry-After, without waiting on server selection.
      const during = await waitFor(() => timedGet(targets.route.url), (a) => a.status === 503, 15_000, 100);
      expect(during.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(during.body)).toMatchObject({ error: "database_unavailable" });
      const fast = await Promise.all(targets.all.map((s) => timedGet(s.url)));
      for (const answer of fast) {
        expect(answer.status).toBe(503);
        // Never the driver's server selection wait (8 s here, 30 s by default): at most one recovery ping (2 s), with a loaded machine's margin.
        expect(answer.ms).toBeLessThan(5000);
      }
      // Control: the app's own 500 with the driver's error (mongoose 9), or still waiting on server
      // selection after 3 s (mongoose 8 waits 30 s, then 500); never a 503 with Retry-After.
      const controlAnswer = await timedGet(control.url, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e.name);
      if (typeof controlAnswer === "string") expect(controlAnswer).toBe("TimeoutError");
      else {
        expect(controlAnswer.status).toBe(500);
        expect(controlAnswer.retryAfter).toBeNull();
        expect(controlAnswer.body).toMatch(/Mongo\w*Error/);
      }
      await server.start();
      const back = await waitFor(() => timedGet(targets.api.url), (a) => a.status === 200, 20_000, 200);
      expect(back.status).toBe(200);
    } finally {
      if (!server.listening) await server.start();
      await targets.close();
      await control.close();
      await controlMongoose.disconnect();
      await database.close();
    }
  }, 60_000);

  it("close() with requests waiting for the one pooled connection: each gets 503 closed at once; control: mongoose's own close() fails them as the app's 500", async () => {
    const HOLD_MS = 2000;
    const WAITERS = 5;
    const appName = uniqueName(`mongoose_close_${suffix}`);
    const database = createDatabase(mongooseAdapter({ uri: uri(appName), dbName: `close_${suffix}`, maxPoolSize: 1 }, setup), {
      name: appName,
      logger: captureLogger(),
    });
    const schema = noteSchema();
    let calls = 0;
    // The first request holds the pool's one connection on the server; the rest queue behind it.
    const work = (conn: { getClient(): { db(name: string): { command(c: object): Promise<unknown> } }; model: typeof m.model }) =>
      calls++ === 0 ? conn.getClient().db("admin").command({ sleep: 1, millis: HOLD_MS }) : conn.model("Note", schema).countDocuments();
    const targets = await serveRouters(database, async (db) => work(db));
    // CONTROL: the same pool of one in a plain mongoose connection, closed the way a shutdown hook would.
    const controlConn = m.createConnection(uri(`${appName}_control`, `close_${suffix}`), { maxPoolSize: 1, bufferCommands: false });
    await controlConn.asPromise();
    // The package's own counters, read from the control client's pool events (mongoose keeps none).
    const controlPool = new PoolCounters(controlConn.getClient() as unknown as MongoClient, 1);
    let controlCalls = 0;
    const ControlNote = controlConn.model("Note", noteSchema());
    const control = await serveNode(async (_req, res) => {
      try {
        const result = controlCalls++ === 0 ? await controlConn.getClient().db("admin").command({ sleep: 1, millis: HOLD_MS }) : await ControlNote.countDocuments();
        res.end(JSON.stringify({ result }));
      } catch (e) {
        res.statusCode = 500;
        res.end(String(e));
      }
    });
    const queueUp = async (url: string, queued: () => Promise<unknown>, close: () => Promise<unknown>) => {
      const holder = timedGet(url);
      await waitFor(() => calls + controlCalls, (n) => n >= 1, 5000, 10);
      let closedAt = 0;
      const waiters = Array.from({ length: WAITERS }, () => timedGet(url).then((a) => ({ ...a, afterClose: performance.now() - closedAt })));
      await queued();
      closedAt = performance.now();
      await close();
      return { waiters: await Promise.all(waiters), holder: await holder };
    };
    try {
      expect((await timedGet(targets.api.url)).status).toBe(200); // connects; the pool's one connection is open
      calls = 0;
      const ours = await queueUp(
        targets.api.url,
        async () => {
          // Every waiter's handler has run (the pool's queue alone can fill first: mongoose's
          // autoCreate queues a createCollection of its own), and their operations are queued.
          expect(await waitFor(() => calls, (n) => n >= 1 + WAITERS, 5000, 10)).toBe(1 + WAITERS);
          expect(await waitFor(() => database.stats().pool?.waiting ?? 0, (n) => n >= WAITERS, 5000, 10)).toBeGreaterThanOrEqual(WAITERS);
        },
        () => database.close(),
      );
      // The driver's close() cuts the holder's connection first, and the freed slot may open a
      // connection for the first waiter before the pool closes: that one waiter is served. The
      // rest fail at once with 503 closed; none waits for the holder or answers the app's 500.
      for (const w of notServedDuringClose(ours.waiters)) {
        expect(w.status).toBe(503);
        expect(JSON.parse(w.body)).toMatchObject({ error: "database_unavailable", reason: "closed" });
        expect(Number(w.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // At once, not after the holder's 2 s or a wait-queue timeout (a loaded machine's margin).
      for (const w of ours.waiters) expect(w.afterClose).toBeLessThan(HOLD_MS * 0.75);
      expect(await waitFor(() => server.connections().filter((c) => c.appName === appName).length, (k) => k === 0)).toBe(0);

      const plain = await queueUp(
        control.url,
        async () => {
          expect(await waitFor(() => controlCalls, (n) => n >= 1 + WAITERS, 5000, 10)).toBe(1 + WAITERS);
          expect(await waitFor(() => controlPool.snapshot().waiting ?? 0, (n) => n >= WAITERS, 5000, 10)).toBeGreaterThanOrEqual(WAITERS);
        },
        () => controlConn.close(),
      );
      // mongoose fails its queue at once too, but as an error the app answers with its own 500: nothing says "retry".
      for (const w of notServedDuringClose(plain.waiters)) expect(w.status).toBe(500);
      for (const w of plain.waiters) expect(w.retryAfter).toBeNull();
    } finally {
      await targets.close();
      await control.close();
      await controlConn.close().catch(() => {});
      await database.close();
    }
  }, 30_000);
});


describe("mongoose() configuration", () => {
  it("no database name is a DatabaseConfigError naming dbName, never a silent 'test'; the password never shows", async () => {
    const database = createDatabase(mongooseAdapter({ uri: "mongodb://app:s3cret-pw@127.0.0.1:1" }), { name: uniqueName("mongoose_cfg"), logger: captureLogger() });
    const err = await database.connect().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConfigError);
    expect((err as DatabaseConfigError).setting).toBe("dbName");
    expect(String((err as Error).message)).not.toContain("s3cret-pw");
  });

  it("a missing uri names uri", async () => {
    const database = createDatabase(mongooseAdapter({ uri: undefined }), { name: uniqueName("mongoose_cfg"), logger: captureLogger() });
    await expect(database.connect()).rejects.toMatchObject({ setting: "uri" });
  });
});
