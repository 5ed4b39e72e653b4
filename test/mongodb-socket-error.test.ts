/**
 * The MongoDB driver (6.x and 7.x) sometimes hands a command the socket's own
 * error, unwrapped: `Error: This socket has been ended by the other party`
 * (code EPIPE), when it wrote the command to a pooled connection whose server
 * had just closed it (Connection.writeCommand awaits 'drain', which rejects
 * with the socket's error as is). Found under `next start` in
 * test/orm-next-app.test.ts: the first request of a MongoDB outage got the
 * app's 500 instead of the 503. The driver discards the broken connection
 * before the error reaches the handler (`connectionClosed`, reason "error"),
 * so the package answers such a bare socket error as the database's when the
 * driver lost a connection during the request.
 *
 * The race itself needs a loaded event loop to show; here the driver's event
 * is real (the server drops the pooled connection, the driver discards it
 * and retries the read on a new one) and the handler then throws the bare
 * EPIPE the driver would have. Controls, in the same run: the same error in a
 * request where no connection broke, and a failed fetch() in a request where
 * one did, keep the app's 500.
 */
import type { Db, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { mongodb } from "../src/adapters/mongodb.js";
import { captureLogger } from "./support/logger.js";
import { MongoWireServer } from "./support/mongo-wire/index.js";
import { uniqueName } from "./support/postgres.js";
import { serveRouters, timedGet } from "./support/routes.js";

let server: MongoWireServer;
beforeAll(async () => {
  server = new MongoWireServer();
  await server.start();
});
afterAll(async () => {
  await server?.stop();
});

/** What Node's net.Socket raises for a write after the peer's FIN. */
function bareEpipe(): Error {
  return Object.assign(new Error("This socket has been ended by the other party"), { code: "EPIPE" });
}

/** What undici's fetch() raises when the other service refuses the connection. */
function fetchFailed(): Error {
  return new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
}

describe("a bare socket error from the MongoDB driver", () => {
  it("is the database's (503 with Retry-After) when the driver discarded a broken connection during the request; otherwise the app's 500", async () => {
    const name = uniqueName("mongo_bare_epipe");
    const logger = captureLogger();
    const database = createDatabase(mongodb({ url: `${server.uri}/bare_epipe?appName=${name}&maxPoolSize=1` }), { name, logger });
    let mode: "lost-epipe" | "epipe" | "lost-fetch" = "epipe";
    const targets = await serveRouters(database, async (db: Db, client: MongoClient) => {
      if (mode !== "epipe") {
        let closed = 0;
        const count = (event: { reason: string }) => void (event.reason === "error" && closed++);
        client.on("connectionClosed", count);
        // The server drops the pooled connection; the driver discards it and retries the read on a new one.
        server.killAllConnections();
        await db.collection("c").findOne({});
        client.off("connectionClosed", count);
        expect(closed).toBeGreaterThan(0);
      }
      throw mode === "lost-fetch" ? fetchFailed() : bareEpipe();
    });
    try {
      for (const target of targets.all) {
        mode = "epipe";
        const control = await timedGet(target.url);
        expect(control.status).toBe(500); // no connection broke: not the database's
        expect(control.retryAfter).toBeNull();

        mode = "lost-fetch";
        const fetchControl = await timedGet(target.url);
        expect(fetchControl.status).toBe(500); // a connection broke, but fetch() failed: the app's
        expect(fetchControl.retryAfter).toBeNull();

        mode = "lost-epipe";
        const ours = await timedGet(target.url);
        expect(ours.status).toBe(503);
        expect(ours.retryAfter).toMatch(/^\d+$/);
        expect(JSON.parse(ours.body)).toMatchObject({ error: "database_unavailable", reason: "unreachable" });
      }
      // The server was up throughout: the probe each 503 started found it, and requests go on.
      mode = "epipe";
      expect((await database.health()).status).toBe("up");
      expect(logger.text()).toContain("a pooled connection failed");
    } finally {
      await targets.close();
      await database.close();
    }
  });
});
