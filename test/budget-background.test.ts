/**
 * The connection-budget reading runs after the pool is handed out, on a
 * connection the pool holds idle: the first request neither waits for its
 * query nor makes the pool open a second connection for it (on a serverless
 * instance with a pool of 2, that would double what one request needs).
 * Control: the same reading run beside the first request, as a background
 * query that does not wait for an idle connection would, opens a second one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { pgBudget } from "../src/adapters/pg-budget.js";
import { pg } from "../src/adapters/pg.js";
import { captureLogger } from "./support/logger.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "./support/postgres.js";
import { samplePeak } from "./support/peak.js";
import { waitFor } from "./support/wait.js";

afterAll(() => closeAdmin());

describe("connection budget in the background", () => {
  it("the first request keeps the one connection the connect opened; the warning still comes", async () => {
    const app = uniqueName("ndc_budget_bg");
    const log = captureLogger();
    // warnAt 1 %: any reading warns, so its arrival shows the reading ran.
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), { name: app, logger: log, connectionBudget: { warnAt: 0.01 } });
    try {
      const { db } = await database.connect();
      const peak = samplePeak(() => pgConnectionCount(app), 20);
      await db.query("SELECT pg_sleep(0.6)");
      expect((await peak.stop()).peak).toBe(1);
      const warned = await waitFor(() => log.lines.filter((l) => l.startsWith("warn") && l.includes("connection budget:")).length, (n) => n === 1, 5000, 50);
      expect(warned).toBe(1);
      expect(await pgConnectionCount(app)).toBe(1);
    } finally {
      await database.close();
    }
  });

  it("control: the reading run beside the first request makes the pool open a second connection", async () => {
    const app = uniqueName("ndc_budget_bg_ctl");
    const database = createDatabase(pg({ connectionString: await postgresUrl(), application_name: app, max: 2 }), { name: app, logger: false, connectionBudget: false });
    try {
      const { db } = await database.connect();
      const peak = samplePeak(() => pgConnectionCount(app), 20);
      await Promise.all([db.query("SELECT pg_sleep(0.6)"), pgBudget(db, false)]);
      expect((await peak.stop()).peak).toBe(2);
    } finally {
      await database.close();
    }
  });
});
