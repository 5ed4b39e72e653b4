/**
 * close() cannot be held forever by a connection checked out outside any
 * request, and a custom adapter's identity is its `config`, not the text of
 * its connect function (which each bundle compiles differently).
 */
import mysqlDriver from "mysql2/promise";
import pgDriver from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase, defineAdapter } from "../src/index.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { mysqlUrl } from "./support/mysql.js";
import { captureLogger } from "./support/logger.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

afterAll(() => closeAll());

describe("close() with a connection still checked out", () => {
  it("resolves after closeTimeoutMs with a warning; control: a bare pool.end() waits as long as the client is out", async () => {
    const app = uniqueName("ndc_close");
    const logger = captureLogger();
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), {
      name: app,
      logger,
      closeTimeoutMs: 300,
    });
    const { db } = await database.connect();
    const held = await db.connect(); // outside any request: the leak guard does not see it
    const started = Date.now();
    await database.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(logger.text()).toMatch(/close\(\) gave up waiting after 300 ms/);
    expect(database.stats().state).toBe("idle");
    held.release();
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0, 3000)).toBe(0);

    // Control: node-postgres alone.
    const bareApp = uniqueName("ndc_close_bare");
    const bare = new pgDriver.Pool({ connectionString: await postgresUrl(), application_name: bareApp });
    const client = await bare.connect();
    let ended = false;
    const ending = bare.end().then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 1000));
    expect(ended).toBe(false);
    client.release();
    await ending;
    expect(ended).toBe(true);
  });
});

describe("defineAdapter identity", () => {
  type Fake = { id: number; closed: boolean };
  let opened = 0;
  const fake = (config: unknown, variant: number) =>
    defineAdapter<Fake>({
      kind: "fake",
      config,
      // Two texts of "the same" connect, as two bundles would compile it.
      connect: variant === 1 ? async () => ({ id: ++opened, closed: false }) : async function connectFake() { opened += 1; return { id: opened, closed: false }; },
      close: (c) => void (c.closed = true),
    });

  it("the same config with a differently compiled connect reuses the client; a changed config replaces it", async () => {
    const name = uniqueName("fake");
    const first = await createDatabase(fake({ url: "a" }, 1), { name, logger: false }).connect();
    const again = await createDatabase(fake({ url: "a" }, 2), { name, logger: false }).connect();
    expect(again.client).toBe(first.client);
    expect(opened).toBe(1);

    const changed = createDatabase(fake({ url: "b" }, 2), { name, logger: false });
    const next = await changed.connect();
    expect(next.client).not.toBe(first.client);
    expect(first.client.closed).toBe(true);
    expect(changed.stats().connects).toBe(2);
  });

  it("warns when one name is used by two different kinds of database", async () => {
    const name = uniqueName("shared_name");
    const logger = captureLogger();
    const make = (kind: string) =>
      createDatabase(defineAdapter({ kind, config: kind, connect: async () => ({ kind }), close: () => {} }), { name, logger });
    await make("alpha").connect();
    await make("alpha").connect(); // same kind and config: reused, no warning
    expect(logger.text()).not.toMatch(/is used by two/);
    const { client } = await make("beta").connect();
    expect(client).toEqual({ kind: "beta" });
    expect(logger.text()).toMatch(/"[^"]+" is used by two different databases \(alpha and beta\); give each createDatabase\(\) its own `name`/);
  });
});

describe("a driver that writes into the config it is given", () => {
  it("mysql2: the same config object used twice keeps one pool (mysql2 writes host, user and password back into it)", async () => {
    const name = uniqueName("my_same_config");
    const logger = captureLogger();
    const config = { uri: mysqlUrl(), connectionLimit: 2 };
    const keys = Object.keys(config).sort();
    const first = createDatabase(mysql2(config), { name, logger });
    await first.connect();
    // Control on the driver itself: mysql2 mutates what it is handed.
    const probe = { uri: mysqlUrl(), connectionLimit: 1 };
    const bare = mysqlDriver.createPool(probe);
    expect(Object.keys(probe).length).toBeGreaterThan(2);
    await bare.end();

    expect(Object.keys(config).sort()).toEqual(keys); // ours handed the driver a copy
    const second = createDatabase(mysql2(config), { name, logger });
    await second.connect();
    expect(second.stats().connects).toBe(1);
    expect(logger.text()).not.toMatch(/configuration changed/i);
    await second.close();
  });
});
