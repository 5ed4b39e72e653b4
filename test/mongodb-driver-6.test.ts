/**
 * The mongodb adapter with the MongoDB driver 6.x, which the package supports
 * as well as 7.x (peer dependency ">=6 <8"). The repository installs 7.x as
 * `mongodb` and 6.x as `mongodb-v6`; here the adapter's own `import("mongodb")`
 * is pointed at 6.x, and the client it hands out must be a 6.x client (the
 * control that the switch took effect; the wire server also sees the
 * handshake's driver version).
 */
import { MongoClient as MongoClientV6 } from "mongodb-v6";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { closeAll, createDatabase, DatabaseUnavailableError } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, mongoUrl, type MongoTarget } from "./support/mongodb-target.js";
import { uniqueName } from "./support/postgres.js";

vi.mock("mongodb", async () => await import("mongodb-v6"));
// The real 7.x, for the control: the client handed out must not be one of these.
const { MongoClient: MongoClientV7 } = await vi.importActual<typeof import("mongodb")>("mongodb");

let target: MongoTarget;
beforeAll(async () => {
  target = await mongoTarget();
});
afterAll(async () => {
  await closeAll();
  await target?.close();
});

describe("mongodb adapter with driver 6.x", () => {
  it("connects, serves queries through req.db's Db, reports health and stats, and closes", async () => {
    const appName = uniqueName("ndc_driver6");
    const dbName = uniqueName("ndc_driver6");
    const database = createDatabase(mongodb({ url: mongoUrl(target.uri, dbName), appName, maxPoolSize: 3 }), { name: appName, logger: captureLogger() });
    const { client, db } = await database.connect();
    expect(client).toBeInstanceOf(MongoClientV6);
    expect(client).not.toBeInstanceOf(MongoClientV7);
    await db.collection("notes").insertOne({ text: "six" });
    expect(await db.collection("notes").findOne({ text: "six" }, { projection: { _id: 0 } })).toEqual({ text: "six" });
    if (target.server) {
      const mine = target.server.connections().filter((c) => c.appName === appName);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((c) => c.driverVersion?.startsWith("6."))).toBe(true);
    }
    expect(await database.health()).toMatchObject({ ok: true, status: "up", kind: "mongodb" });
    expect(database.stats()).toMatchObject({ state: "connected", connects: 1 });
    expect(database.stats().pool?.max).toBe(3);
    await db.dropDatabase();
    await database.close();
    expect(database.stats().pool).toBeNull();
  });

  it("a server that cannot be reached is a 503 (DatabaseUnavailableError), as with 7.x", async () => {
    const database = createDatabase(mongodb({ url: "mongodb://127.0.0.1:1/down", serverSelectionTimeoutMS: 300 }), { name: uniqueName("ndc_driver6_down"), logger: false });
    const err = await database.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
  });
});
