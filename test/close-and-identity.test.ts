/**
 * close() cannot be held forever by a connection checked out outside any
 * request, and a custom adapter's identity is its `config`, not the text of
 * its connect function (which each bundle compiles differently).
 */
import mysqlDriver from "mysql2/promise";
import pgDriver from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { closeAll, createDatabase, DatabaseConfigError, defineAdapter } from "../index.js";
import { mysql2 } from "../src/adapters/mysql2.js";
import { pg } from "../src/adapters/pg.js";
import { mysqlUrl } from "./support/mysql.js";
import { captureLogger } from "./support/logger.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { queuedCallbacksRun, waitFor } from "./support/wait.js";

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
    // It resolved with the client still out (released only below): it gave up at its bound, said so,
    // and did not wait for the client. The bound plus 5 s for a loaded machine, far below "until released".
    expect(logger.text()).toMatch(/close\(\) gave up waiting after 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 - 5);
    expect(Date.now() - started).toBeLessThan(300 + 5000);
    expect(database.stats().state).toBe("idle");
    held.release();
    expect(await waitFor(() => pgConnectionCount(app), (n) => n === 0, 3000)).toBe(0);

    // Control: node-postgres alone.
    const bareApp = uniqueName("ndc_close_bare");
    const bare = new pgDriver.Pool({ connectionString: await postgresUrl(), application_name: bareApp });
    const client = await bare.connect();
    let ended = false;
    const ending = bare.end().then(() => (ended = true));
    // pool.end() has closed the idle side and now waits for the client: nothing else will end it.
    await queuedCallbacksRun();
    expect(ended).toBe(false);
    expect([bare.ending, bare.totalCount, bare.idleCount]).toEqual([true, 1, 0]);
    expect(await pgConnectionCount(bareApp)).toBe(1);
    // It ends when, and only when, the client comes back.
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

  it("two different databases left under one name: one replacement with a warning, then the older definition gets a DatabaseConfigError naming the `name` to give, instead of the two closing each other's pool", async () => {
    const name = uniqueName("shared_name");
    const logger = captureLogger();
    let opened = 0;
    const make = (db: string) =>
      createDatabase(
        defineAdapter({ kind: "custom", config: db, target: () => `host:1/${db}`, connect: async () => (opened++, { db }), close: () => {} }),
        { name, logger },
      );
    const alpha = make("alpha");
    const beta = make("beta");
    await alpha.connect();
    await alpha.connect(); // same config: reused, no warning
    expect(logger.text()).not.toMatch(/now holds/);
    expect((await beta.connect()).client).toEqual({ db: "beta" });
    expect(logger.text()).toMatch(/the name "[^"]+" now holds custom host:1\/beta instead of custom host:1\/alpha/);
    const refused = await alpha.connect().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DatabaseConfigError);
    expect((refused as DatabaseConfigError).setting).toBe("name");
    expect((refused as Error).message).toMatch(/two different databases use the name "[^"]+": custom host:1\/alpha and custom host:1\/beta/);
    expect((refused as Error).message).toMatch(/\{ name: "alpha" \}/);
    // Alternating use from now on: beta keeps its one pool, alpha keeps being told.
    for (let i = 0; i < 10; i++) {
      expect((await beta.connect()).client).toEqual({ db: "beta" });
      await expect(alpha.connect()).rejects.toBeInstanceOf(DatabaseConfigError);
    }
    expect(opened).toBe(2);

    // Control: the naive registry (replace the pool whenever the config differs) opens one per switch.
    const naive = new Map<string, { config: string; client: unknown }>();
    let naiveOpened = 0;
    const naiveConnect = (config: string) => {
      const held = naive.get(name);
      if (held?.config === config) return held.client;
      naiveOpened++;
      const client = { db: config };
      naive.set(name, { config, client });
      return client;
    };
    for (let i = 0; i < 10; i++) {
      naiveConnect("beta");
      naiveConnect("alpha");
    }
    expect(naiveOpened).toBe(20);

    // A later definition of the old configuration (a dev edit undone) is a real change, not a second database.
    const alphaAgain = make("alpha");
    expect((await alphaAgain.connect()).client).toEqual({ db: "alpha" });
    expect(opened).toBe(3);
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
