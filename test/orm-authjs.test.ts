/**
 * Auth.js database adapters over the managed pool.
 *
 * - `@auth/mongodb-adapter` takes a client promise at import and keeps it.
 *   With `database.clientPromise()`, calls made during a start-up outage wait
 *   and succeed once the server is up, without a restart. Control: the usual
 *   `clientPromise = MongoClient.connect(uri)` stays rejected after the
 *   server is back.
 * - `@auth/pg-adapter` takes a Pool-like object with `query()`; a lazy one
 *   over `database.connect()` runs on the package's pool (counted on the
 *   server by application_name).
 */
import { MongoDBAdapter } from "@auth/mongodb-adapter";
import PostgresAdapter from "@auth/pg-adapter";
import type { Pool } from "pg";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { needsWireServer, wireServerTarget } from "./support/mongodb-target.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

afterAll(async () => {
  await closeAdmin();
});

describe.skipIf(needsWireServer("stop()/start() (orm-authjs: an outage at start-up)"))("@auth/mongodb-adapter with database.clientPromise()", () => {
  it("calls made during a start-up outage wait, then succeed once the server is up; control: MongoClient.connect() stays rejected", async () => {
    const { server } = await wireServerTarget();
    const uri = `mongodb://${server.host}:${server.port}/ndc_authjs`;
    await server.stop(); // down before the app starts
    const database = createDatabase(mongodb({ url: uri, serverSelectionTimeoutMS: 300 }), {
      name: uniqueName("authjs_mongo"),
      logger: captureLogger(),
      retry: { cooldownMs: 200, maxCooldownMs: 400 },
    });
    // What lib/auth.ts does at import time, with the package and with the usual pattern.
    const ours = MongoDBAdapter(database.clientPromise());
    const controlClientPromise = MongoClient.connect(uri, { serverSelectionTimeoutMS: 300 });
    controlClientPromise.catch(() => {}); // rejected while no one awaits it yet
    const control = MongoDBAdapter(controlClientPromise);
    try {
      const ourUser = ours.createUser!({ id: "", email: "ada@example.com", emailVerified: null, name: "Ada" } as never);
      const settled = { ours: false };
      void Promise.resolve(ourUser).then(() => (settled.ours = true), () => (settled.ours = true));
      const controlBefore = await Promise.resolve(control.getUserByEmail!("ada@example.com")).then(() => "ok", (e: Error) => e.name);
      expect(controlBefore).toMatch(/Mongo\w*Error/);
      // Several failed attempts, each followed by its cooldown: still waiting, not rejected.
      expect(await waitFor(() => database.stats().failures, (n) => n >= 3, 15_000)).toBeGreaterThanOrEqual(3);
      expect(settled.ours).toBe(false);
      await server.start();
      const created = await ourUser;
      expect(created).toMatchObject({ email: "ada@example.com", name: "Ada" });
      expect(await ours.getUserByEmail!("ada@example.com")).toMatchObject({ id: created.id });
      // Control: the server is up, but the promise it was given rejected for good.
      const controlAfter = await Promise.resolve(control.getUserByEmail!("ada@example.com")).then(() => "ok", (e: Error) => e.name);
      expect(controlAfter).toMatch(/Mongo\w*Error/);
      expect(server.connections().length).toBeGreaterThan(0);
    } finally {
      await database.close();
      await server.stop();
    }
  }, 30_000);
});

describe("@auth/pg-adapter on the package's pool", () => {
  it("a lazy Pool-like query() over database.connect() serves the adapter from one pool", async () => {
    const app = uniqueName("ndc_authjs_pg");
    const schema = uniqueName("authjs");
    await adminQuery(`CREATE SCHEMA ${schema}`);
    await adminQuery(`CREATE TABLE ${schema}.users (id SERIAL PRIMARY KEY, name VARCHAR(255), email VARCHAR(255), "emailVerified" TIMESTAMPTZ, image TEXT)`);
    const database = createDatabase(
      pg({ connectionString: await postgresUrl(), application_name: app, max: 3, options: `-c search_path=${schema}` }),
      { name: app, logger: captureLogger() },
    );
    // The adapter only calls query(); the pool opens at the first call, not at import.
    const lazyPool = { query: async (...args: unknown[]) => (await database.connect()).client.query(...(args as [string])) } as unknown as Pool;
    const adapter = PostgresAdapter(lazyPool);
    try {
      const users = await Promise.all(
        Array.from({ length: 10 }, (_, i) => adapter.createUser!({ id: "", email: `u${i}@example.com`, emailVerified: null, name: `u${i}` } as never)),
      );
      expect(users).toHaveLength(10);
      expect(await adapter.getUserByEmail!("u3@example.com")).toMatchObject({ name: "u3" });
      expect(database.stats().connects).toBe(1);
      const onServer = await pgConnectionCount(app);
      expect(onServer).toBeGreaterThan(0);
      expect(onServer).toBeLessThanOrEqual(3);
    } finally {
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
