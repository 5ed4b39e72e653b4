/**
 * Contract 2, no poisoned cache, for pg, mysql2 and mongodb, over real HTTP.
 *
 * The database is taken away with a TcpProxy in blackhole mode (it accepts
 * and never answers, so every connect attempt is counted on the proxy and
 * costs CONNECT_TIMEOUT_MS), or, mid-life, with the proxy down (pg, mysql2)
 * or the wire server stopped (mongodb).
 *
 * Controls: a connect per request opens one connection per request, and the
 * classic cached promise (`globalThis._clientPromise ??= connect()`) stays
 * broken after the database is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../index.js";
import { captureLogger } from "./support/logger.js";
import { mongoTarget, mysqlTarget, pgTarget, type NaiveClient, type OutageTarget } from "./support/outage-targets.js";
import { uniqueName } from "./support/postgres.js";
import { serveRouters, timedBurst, timedGet, type RouterTargets } from "./support/routes.js";
import { serveNode } from "./support/http.js";
import { sleep, waitFor } from "./support/wait.js";
import { closeMysqlAdmin } from "./support/mysql.js";
import { closeAdmin } from "./support/postgres.js";
import { needsWireServer } from "./support/mongodb-target.js";

const makers = [
  { label: "pg", make: pgTarget },
  { label: "mysql2", make: mysqlTarget },
  // Its outage is the wire server stopped and started on its port, and its count is the server's own.
  ...(needsWireServer("stop()/start() and connection count (no-poisoned-cache)") ? [] : [{ label: "mongodb", make: mongoTarget }]),
];

function untilRetryAllowed(database: { stats(): { retryAt: string | null } }): Promise<void> {
  const at = database.stats().retryAt;
  return sleep(at === null ? 0 : Math.max(0, Date.parse(at) - Date.now()) + 20);
}

function retryInMs(database: { stats(): { retryAt: string | null } }): number {
  const at = database.stats().retryAt;
  expect(at).not.toBeNull();
  return Date.parse(at!) - Date.now();
}

/**
 * The cooldown the last failure started: from the failure (lastError.at) to
 * the next attempt allowed (retryAt). Read from two timestamps the package
 * sets one statement apart, it does not shrink while a loaded machine is slow
 * to ask. It can read short by a pause of the process between those two
 * statements (a garbage collection: 20 ms was seen under load), never long.
 */
function cooldownMs(database: { stats(): { retryAt: string | null; lastError: { at: string } | null } }): number {
  const { retryAt, lastError } = database.stats();
  expect(retryAt).not.toBeNull();
  return Date.parse(retryAt!) - Date.parse(lastError!.at);
}

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

describe.each(makers)("no poisoned cache: $label", ({ make }) => {
  let target: OutageTarget;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    target = await make();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await target.teardown();
  });

  function define(retry: { cooldownMs: number; factor?: number; jitter?: number }) {
    const logger = captureLogger();
    const database = createDatabase(target.adapter() as any, { name: uniqueName(`poison_${target.label}`), retry, logger });
    cleanups.push(() => database.close());
    return { database, logger };
  }

  async function routers(database: any): Promise<RouterTargets> {
    const r = await serveRouters(database, (db) => target.query(db));
    cleanups.push(() => r.close());
    return r;
  }

  it("concurrent requests share one failing attempt; the cooldown fails fast with 503; the first request after recovery succeeds", async () => {
    // Long enough for the 15 requests below to be answered inside it even on a loaded machine.
    const { database, logger } = define({ cooldownMs: 2000, jitter: 0 });
    const { v1, all } = await routers(database);
    const { proxy } = target;

    proxy.blackhole(true);
    try {
      // 20 concurrent first requests while one connect attempt hangs.
      let before = proxy.accepted;
      const first = await timedBurst(`${v1.url}/items`, 20);
      for (const r of first) {
        expect(r.status).toBe(503);
        expect(JSON.parse(r.body)).toMatchObject({ error: "database_unavailable" });
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // One attempt's worth: each driver opens exactly one socket for one
      // failed connect here (pg/mysql2: the pool's first connection; mongodb:
      // the monitor's, since connectTimeoutMS outlasts server selection).
      expect(proxy.accepted - before).toBe(1);
      expect(database.stats()).toMatchObject({ connects: 0, failures: 1, consecutiveFailures: 1, state: "unavailable" });
      expect(logger.text()).toMatch(/connect failed/);

      // During the cooldown: 503 + Retry-After from every router, and fast: no connect attempt was made
      // (the proxy accepted nothing, which a blackholed attempt would hold a request for its connect timeout), and all
      // of them were answered before the cooldown ended (so none waited for it).
      before = proxy.accepted;
      const during = (await Promise.all(all.map((s) => timedBurst(`${s.url}/items?x=1`, 5)))).flat();
      for (const r of during) {
        expect(r.status).toBe(503);
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(proxy.accepted - before).toBe(0);
      expect(retryInMs(database)).toBeGreaterThan(0); // still inside the cooldown: the checks above were meaningful
      expect(database.stats().failures).toBe(1);
    } finally {
      proxy.blackhole(false);
    }

    // The database is back; once the cooldown passes the very first request succeeds.
    await untilRetryAllowed(database);
    const after = await timedGet(`${v1.url}/items`);
    expect(after.status).toBe(200);
    for (const s of all) expect((await timedGet(`${s.url}/items`)).status).toBe(200);
    expect(database.stats()).toMatchObject({ connects: 1, consecutiveFailures: 0, state: "connected", retryAt: null });
    expect(await target.serverCount()).toBeGreaterThanOrEqual(1);
  });

  it("control: a connect per request opens one connection per request during the same outage", async () => {
    const { proxy } = target;
    proxy.blackhole(true);
    try {
      const before = proxy.accepted;
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => target.naiveConnect()));
      expect(results.every((r) => r.status === "rejected")).toBe(true);
      expect(proxy.accepted - before).toBe(20);
    } finally {
      proxy.blackhole(false);
    }
  });

  it("backoff grows with consecutive failures (stats().retryAt and Retry-After), one attempt per cooldown", async () => {
    // Jitter off: this test checks the exact backoff steps (jitter has its own test in test/reliability/).
    const { database } = define({ cooldownMs: 200, factor: 3, jitter: 0 });
    const { v1 } = await routers(database);
    const { proxy } = target;
    proxy.blackhole(true);
    try {
      const before = proxy.accepted;
      const waits: number[] = [];
      const retryAfter: number[] = [];
      for (let i = 0; i < 3; i++) {
        await untilRetryAllowed(database);
        const r = await timedGet(`${v1.url}/`);
        expect(r.status).toBe(503);
        retryAfter.push(Number(r.retryAfter));
        waits.push(cooldownMs(database));
        // Fail-fast requests in between open nothing.
        for (const x of await timedBurst(`${v1.url}/`, 3)) expect(x.status).toBe(503);
      }
      expect(database.stats()).toMatchObject({ failures: 3, consecutiveFailures: 3 });
      expect(proxy.accepted - before).toBe(3);
      // 200, 600, 1800 ms: cooldownMs × factor^n (jitter off). Each step at most its value (+2 ms of
      // rounding) and at most 100 ms short of it: the ranges do not overlap, so each step is × 3.
      waits.forEach((w, i) => {
        const expected = 200 * 3 ** i;
        expect(w, `step ${i}`).toBeLessThanOrEqual(expected + 2);
        expect(w, `step ${i}`).toBeGreaterThan(expected - 100);
      });
      expect(retryAfter).toEqual([1, 1, 2]);
    } finally {
      proxy.blackhole(false);
    }
  });

  it("control: the classic cached promise stays broken after the database is back; ours recovers", async () => {
    const key = Symbol.for(uniqueName("ndc_naive_client_promise"));
    const holder = globalThis as unknown as Record<symbol, Promise<NaiveClient> | undefined>;
    // The usual Next.js example: `globalThis._clientPromise ??= connect()`.
    const naive = await serveNode(async (_req, res) => {
      try {
        const client = await (holder[key] ??= target.naiveConnect());
        await client.query();
        res.statusCode = 200;
        res.end("ok");
      } catch (err) {
        res.statusCode = 500;
        res.end(String((err as Error).message));
      }
    });
    cleanups.push(() => naive.close());
    cleanups.push(async () => (await holder[key]?.catch(() => null))?.close());
    const { database } = define({ cooldownMs: 200 });
    const { v1 } = await routers(database);
    const { proxy } = target;

    proxy.blackhole(true);
    try {
      expect((await timedGet(`${naive.url}/`)).status).toBe(500);
      expect((await timedGet(`${v1.url}/`)).status).toBe(503);
    } finally {
      proxy.blackhole(false);
    }
    await untilRetryAllowed(database);
    // The database answers again (a fresh driver connect works) ...
    const fresh = await target.naiveConnect();
    await fresh.close();
    // ... but the cached rejected promise is served to every later request, without even trying.
    const acceptedBefore = proxy.accepted;
    const stillBroken = await timedGet(`${naive.url}/`);
    expect(stillBroken.status).toBe(500);
    expect(stillBroken.body).toMatch(/timeout|timed out|ETIMEDOUT|Server selection/i);
    expect((await timedGet(`${naive.url}/`)).status).toBe(500);
    expect(proxy.accepted).toBe(acceptedBefore);
    // Ours: the first request after recovery succeeds.
    expect((await timedGet(`${v1.url}/`)).status).toBe(200);
  });

  it("a connected pool whose database goes away mid-life answers 503, not 500, and recovers without a restart", async () => {
    const { database, logger } = define({ cooldownMs: 200 });
    const { all } = await routers(database);
    for (const s of all) expect((await timedGet(`${s.url}/`)).status).toBe(200);
    expect(database.stats().connects).toBe(1);

    await target.outage();
    try {
      for (const s of all) {
        for (let i = 0; i < 3; i++) {
          const r = await timedGet(`${s.url}/`);
          expect(r.status, `${s.url} during the outage: ${r.body}`).toBe(503);
          expect(JSON.parse(r.body)).toMatchObject({ error: "database_unavailable" });
          expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
        }
      }
      expect(logger.text()).toMatch(/may be unreachable|still unreachable|the driver lost the server/);
      // The drivers' own events were logged too, not swallowed.
      if (target.label === "pg") expect(logger.text()).toMatch(/an idle connection failed/);
      if (target.label === "mysql2") expect(logger.text()).toMatch(/a pooled connection failed/);
      if (target.label === "mongodb") expect(logger.text()).toMatch(/a pooled connection failed|lost the connection to/);
    } finally {
      await target.recover();
    }
    // Back: after the cooldown every router answers 200 again, same process, same database handle.
    const ok = await waitFor(
      async () => {
        await untilRetryAllowed(database);
        return (await timedGet(`${all[0]!.url}/`)).status;
      },
      (status) => status === 200,
      10_000,
    );
    expect(ok).toBe(200);
    for (const s of all) expect((await timedGet(`${s.url}/`)).status).toBe(200);
    expect(database.stats().state).toBe("connected");
    // Recovered by a probe of the existing pool, or by one reconnect: never more.
    expect(database.stats().connects).toBeLessThanOrEqual(2);
  });
});
