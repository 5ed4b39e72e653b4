/**
 * Reliability scenario 5: forgotten releases, through a real HTTP server.
 *
 * 100 concurrent requests, half through a plain Node server running
 * next-connect v1 (`createRouter().use(database)`), half through
 * `database.route(...)`, to handlers that check out a connection
 * (`await req.db.connect()` with pg, `await req.db.getConnection()` with
 * mysql2) and never release it, on a pool of 3. The leak guard returns each
 * one when its response ends: all 100 are answered 200, the server never sees
 * more than 3 connections (pg_stat_activity by application_name, the
 * processlist by user), and each of the 100 warnings names its own route.
 *
 * test/leak-guard.test.ts proves the guard under each router, 10 requests at a
 * time; this adds 100 at once on one pool shared by two router layers, per-
 * request route names, and the figures for docs/RELIABILITY.md.
 *
 * Control: with `leakGuard: false` the same handlers exhaust the pool after 3
 * requests, and the next ones (through either layer) queue behind connections
 * nothing will give back: unanswered, with the pool showing them waiting.
 *
 * MongoDB has no checkout to forget: the driver takes a pooled connection for
 * each operation and returns it itself. Its row measures the nearest thing,
 * an explicit session started and never ended, which holds no connection.
 */
import { createRouter } from "next-connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { serveNode, serveWeb, type TestServer } from "../support/http.js";
import { captureLogger } from "../support/logger.js";
import { needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { closeMysqlAdmin, createMysqlUser, mysqlConnectionCount } from "../support/mysql.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { sleep, waitFor } from "../support/wait.js";

const POOL_MAX = 3;
const REQUESTS = 100;
const COMMAND = "npx vitest run test/reliability/forgotten-release.test.ts";

interface Checkout {
  release(): void;
}

interface SqlTarget {
  label: "pg" | "mysql2";
  database: "PostgreSQL" | "MariaDB";
  adapter(): any;
  /** Connections the server itself sees for this target. */
  serverCount(): Promise<number>;
  /** What a handler that forgets to release does: check out, query, return without releasing. */
  leak(db: any): Promise<Checkout>;
  teardown(): Promise<void>;
}

async function pgTarget(): Promise<SqlTarget> {
  const url = await postgresUrl();
  const app = uniqueName("ndc_forgot_pg");
  return {
    label: "pg",
    database: "PostgreSQL",
    // The adapter's own defaults otherwise (connectionTimeoutMillis 10 s).
    adapter: () => pg({ connectionString: url, application_name: app, max: POOL_MAX }),
    serverCount: () => pgConnectionCount(app),
    async leak(db) {
      const client = await db.connect();
      await client.query("SELECT 1");
      return client;
    },
    teardown: async () => {},
  };
}

async function mysqlTarget(): Promise<SqlTarget> {
  const user = await createMysqlUser("ndc_forgot");
  return {
    label: "mysql2",
    database: "MariaDB",
    adapter: () => mysql2({ uri: user.url, connectionLimit: POOL_MAX }),
    serverCount: () => mysqlConnectionCount(user.user),
    async leak(db) {
      const connection = await db.getConnection();
      await connection.query("SELECT 1");
      return connection;
    },
    teardown: () => user.drop(),
  };
}

/** The same leaking handler behind next-connect v1 on a Node server, and behind database.route(). */
async function serveLeaky(database: any, handler: (db: any) => Promise<unknown>): Promise<{ v1: TestServer; route: TestServer; close(): Promise<void> }> {
  const router = createRouter<IncomingMessage & { db: any }, ServerResponse>()
    .use(database)
    .get("/api/v1/reports/:id", async (req, res) => {
      await handler(req.db);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ ok: true }));
    });
  const v1 = await serveNode((req, res) =>
    void router.run(req as never, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    }),
  );
  const GET = database.route(async (_req: Request, { db }: { db: any }) => {
    await handler(db);
    return Response.json({ ok: true });
  });
  const route = await serveWeb((req) => GET(req, { params: Promise.resolve({}) }));
  return { v1, route, close: async () => void (await Promise.all([v1.close(), route.close()])) };
}

/** The i-th request's path: even ones through next-connect, odd ones through route(); a query string that must not be logged. */
function requestUrl(servers: { v1: TestServer; route: TestServer }, i: number): { url: string; route: string } {
  const path = i % 2 === 0 ? `/api/v1/reports/${i}` : `/api/app/reports/${i}`;
  const base = i % 2 === 0 ? servers.v1.url : servers.route.url;
  return { url: `${base}${path}?token=tok_${i}`, route: `GET ${path}` };
}

/** Polls a server-side count in the background; returns the highest value seen. */
function watchPeak(read: () => Promise<number>): () => Promise<number> {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await read());
      await sleep(10);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}


afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

describe.each([
  { label: "pg", make: pgTarget },
  { label: "mysql2", make: mysqlTarget },
])("scenario 5, forgotten release: $label", ({ make }) => {
  it(`${REQUESTS} leaking requests at once on a pool of ${POOL_MAX}: all 200, at most ${POOL_MAX} server connections, each warning names its route; control without the guard hangs`, { timeout: 90_000 }, async () => {
    const target = await make();
    const cleanups: Array<() => Promise<unknown>> = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // --- With the leak guard (the default) ---
      const logger = captureLogger();
      const database = createDatabase(target.adapter(), { name: uniqueName(`forgot_${target.label}`), logger });
      cleanups.push(() => database.close());
      const servers = await serveLeaky(database, (db) => target.leak(db));
      cleanups.push(() => servers.close());

      const stopWatch = watchPeak(() => target.serverCount());
      const requests = Array.from({ length: REQUESTS }, (_, i) => requestUrl(servers, i));
      const results = await Promise.all(
        requests.map(async ({ url }) => {
          const started = performance.now();
          const res = await fetch(url, { signal: AbortSignal.timeout(30_000) }).then(
            async (r) => (await r.text(), r.status),
            (e: Error) => (e.name === "TimeoutError" ? "timeout" : "error"),
          );
          return { status: res, ms: performance.now() - started };
        }),
      );
      // The guard releases on the response's 'close', just after the client has its answer.
      await waitFor(() => database.stats().leaksReleased, (n) => n === REQUESTS, 10_000);
      const peak = await stopWatch();
      const statuses = countStatuses(results.map((r) => r.status));
      const warnings = logger.lines.filter((l) => l.startsWith("warn") && l.includes("did not release it"));
      const routesWarned = new Map<string, number>();
      for (const w of warnings) {
        const named = requests.filter((r) => w.includes(`${r.route} checked out`)).map((r) => r.route);
        for (const route of named) routesWarned.set(route, (routesWarned.get(route) ?? 0) + 1);
      }
      const viaRoute = warnings.filter((w) => w.includes("GET /api/app/reports/")).length;
      const viaV1 = warnings.filter((w) => w.includes("GET /api/v1/reports/")).length;

      // The pool still serves, within its size, with nothing left checked out.
      const { db } = (await database.connect()) as { db: { query(sql: string): Promise<unknown> } };
      await db.query("SELECT 1");
      const pool = database.stats().pool;

      // The guarded pool goes first, so the control's server-side count is its own.
      await servers.close();
      await database.close();
      const closedCount = await waitFor(() => target.serverCount(), (n) => n === 0, 10_000);

      // --- Control: the same handlers, leakGuard: false ---
      const control = await runControl(target);

      const maxLatencyMs = Math.round(Math.max(...results.map((r) => r.ms)));
      recordFigures(`5-forgotten-release-${target.label}`, {
        scenario: "5. Forgotten release",
        database: target.database,
        load: `${REQUESTS} requests at once (50 next-connect v1 createRouter().use(database), 50 database.route()), pool max ${POOL_MAX}`,
        faults: `every handler checks out a connection (${target.label === "pg" ? "await req.db.connect()" : "await req.db.getConnection()"}) and never releases it`,
        requests: REQUESTS,
        statuses,
        crashes: 0,
        unhandledRejections: unhandled.length,
        maxLatencyMs,
        recoveryMs: null,
        leaks: pool?.inUse ?? null,
        notes:
          `leak guard released ${database.stats().leaksReleased}/${REQUESTS}; ${warnings.length} warnings naming ` +
          `${routesWarned.size} distinct routes, each its own request's path (${viaV1} next-connect, ${viaRoute} route()), no query string logged; ` +
          `peak server-side connections ${peak} (pool max ${POOL_MAX}). Control, leakGuard: false: ${control.answered} answered, then ` +
          `${control.hanging}/${control.sent} requests (next-connect and route()) queued behind the leaked connections, unanswered: pool inUse ${control.inUse}, waiting ${control.waiting}.`,
        command: COMMAND,
      });

      expect(statuses).toEqual({ "200": REQUESTS });
      expect(unhandled).toEqual([]);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(POOL_MAX);
      expect(warnings).toHaveLength(REQUESTS);
      // Each of the 100 requests is named once, by its own path, whichever layer served it.
      expect(requests.every((r) => routesWarned.get(r.route) === 1)).toBe(true);
      expect(viaRoute).toBe(REQUESTS / 2);
      expect(logger.text()).not.toContain("tok_");
      expect(pool).toMatchObject({ inUse: 0, waiting: 0 });
      expect(closedCount).toBe(0);

      expect(control.answered).toBe(POOL_MAX);
      expect(control.hanging).toBe(control.sent);
      expect(control.inUse).toBe(POOL_MAX);
      expect(control.serverCount).toBe(POOL_MAX);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      for (const c of cleanups.reverse()) await c().catch(() => {});
      expect(await waitFor(() => target.serverCount(), (n) => n === 0, 10_000)).toBe(0);
      await target.teardown();
    }
  });
});

/**
 * leakGuard: false. Three leaking requests take the whole pool; the next
 * ones, through either layer, get no answer. Then everything is released and
 * closed, so the hung requests finish and nothing is left on the server.
 */
async function runControl(target: SqlTarget) {
  const database = createDatabase(target.adapter(), { name: uniqueName(`forgot_noguard_${target.label}`), logger: captureLogger(), leakGuard: false });
  const held: Checkout[] = [];
  let handed = 0; // connections handed to handlers, counted when they got one
  const servers = await serveLeaky(database, async (db) => {
    held.push(await target.leak(db));
    handed++;
  });
  const aborts = new AbortController();
  let sent = 0;
  try {
    let answered = 0;
    for (let i = 0; i < POOL_MAX; i++) {
      const { url } = requestUrl(servers, i);
      if ((await fetch(url)).status === 200) answered++;
    }
    const serverCount = await target.serverCount();
    sent = 4;
    const outcomes: string[] = [];
    const pending = Array.from({ length: sent }, (_, k) =>
      fetch(requestUrl(servers, POOL_MAX + k).url, { signal: aborts.signal }).then(
        (r) => void outcomes.push(`answered ${r.status}`),
        () => void outcomes.push("unanswered"),
      ),
    );
    // All of them queue for the pool, where nothing will hand them a connection: that is the hang,
    // read from the pool rather than from a clock.
    const queued = await waitFor(() => database.stats().pool, (p) => p?.waiting === sent, 10_000);
    const hanging = sent - outcomes.length;
    aborts.abort();
    await Promise.all(pending);
    return { answered, sent, hanging, inUse: queued?.inUse ?? null, waiting: queued?.waiting ?? null, serverCount };
  } finally {
    aborts.abort();
    // Releasing lets the queued checkouts through (the handlers run even for aborted requests);
    // they leak too, so release until every one of them has had its connection.
    held.splice(0).forEach((c) => c.release());
    await waitFor(() => (held.splice(0).forEach((c) => c.release()), handed), (n) => n >= POOL_MAX + sent, 10_000);
    held.splice(0).forEach((c) => c.release());
    await servers.close();
    await database.close();
  }
}

describe.skipIf(needsWireServer("connection count (scenario 5: peak connections on the server)"))("scenario 5, forgotten release: mongodb", () => {
  it("MongoDB has no checkout to forget: sessions started and never ended hold no connection", { timeout: 60_000 }, async () => {
    const { server, uri } = await wireServerTarget();
    const logger = captureLogger();
    const maxPoolSize = POOL_MAX;
    const database = createDatabase(mongodb({ url: `${uri}/forgot`, maxPoolSize }), { name: uniqueName("forgot_mongo"), logger });
    try {
      const GET = database.route(async (_req: Request, { db, dbClient }: { db: any; dbClient: any }) => {
        const session = dbClient.startSession(); // never ended
        await db.collection("reports").findOne({}, { session });
        return Response.json({ ok: true });
      });
      const web = await serveWeb((req) => GET(req, { params: Promise.resolve({}) }));
      const stopWatch = watchPeak(async () => server.connectionCount);
      const results = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, i) => {
          const started = performance.now();
          const status = await fetch(`${web.url}/api/app/reports/${i}`, { signal: AbortSignal.timeout(30_000) }).then(
            async (r) => (await r.text(), r.status),
            () => "timeout",
          );
          return { status, ms: performance.now() - started };
        }),
      );
      const peak = await stopWatch();
      await web.close();
      const statuses = countStatuses(results.map((r) => r.status));
      const pool = database.stats().pool;
      recordFigures("5-forgotten-release-mongodb", {
        scenario: "5. Forgotten release",
        database: "MongoDB (wire server)",
        load: `${REQUESTS} requests at once through database.route(), maxPoolSize ${maxPoolSize}`,
        faults: "every handler starts a session (dbClient.startSession()) and never ends it",
        requests: REQUESTS,
        statuses,
        crashes: 0,
        unhandledRejections: 0,
        maxLatencyMs: Math.round(Math.max(...results.map((r) => r.ms))),
        recoveryMs: null,
        leaks: pool?.inUse ?? null,
        notes:
          `Not applicable as such: the MongoDB driver has no connection checkout for a handler to forget (each operation takes and returns a pooled ` +
          `connection itself), so the leak guard does not apply. Measured instead: sessions never ended hold no connection; peak wire-server ` +
          `connections ${peak} (maxPoolSize ${maxPoolSize} + monitoring), pool inUse after ${pool?.inUse}; leak warnings ${logger.lines.filter((l) => l.includes("did not release")).length}.`,
        command: COMMAND,
      });
      expect(statuses).toEqual({ "200": REQUESTS });
      expect(pool).toMatchObject({ inUse: 0 });
      // The pool's connections plus the driver's monitoring connections (one per server, one RTT pinger).
      expect(peak).toBeLessThanOrEqual(maxPoolSize + 2);
    } finally {
      await database.close();
      expect(await waitFor(() => server.connectionCount, (n) => n === 0, 5000)).toBe(0);
      await server.stop();
    }
  });
});
