/**
 * The migration path, after the first connect: a next-connect v0 app whose
 * only change is its `middlewares/database.js` (now `createDatabase(...)`),
 * with its own `onError` answering JSON 500 and *no* `database.onError`.
 * Four clients keep sending requests; the database goes down under them (pg:
 * the proxy in front of PostgreSQL refuses and cuts every connection; MongoDB:
 * the wire server stops), and comes back.
 *
 * The package learns the outage from the driver (pool error events, failed
 * queries, MongoDB's server monitoring), logs it, and from that line on every
 * request that starts gets 503 with Retry-After at once. Only requests
 * already in flight reach the app's 500. It knows before the driver's own
 * timeout would have ended the first of them.
 *
 * Control, same run: the app's original hand-written middleware answers the
 * app's 500 to every request of the outage (MongoDB: each after the driver's
 * server-selection timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOnError, classicV0Route, handWrittenMongoMiddleware, handWrittenPgMiddleware, type Middleware } from "../support/classic-v0-app.js";
import { clientLoop, type Exchange } from "../support/client-loop.js";
import { buildPackage } from "../support/build.js";
import { sandboxWithMongoDriver, type DriverSandbox } from "../support/driver-sandbox.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { serveNode } from "../support/http.js";
import { MONGO_LABEL, needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { closeAdmin, postgresUrl, uniqueName, withUrl } from "../support/postgres.js";
import { proxyInFrontOf, type TcpProxy } from "../support/tcp-proxy.js";
import { timedLogger } from "../support/timed-logger.js";

const COMMAND = "npx vitest run test/reliability/outage-after-connect.test.ts";
const CLIENTS = 4;
/** The package's connect deadline; MongoDB's driver deadlines are 80% of it, the control gets the same. */
const CONNECT_TIMEOUT_MS = 2500;
const DRIVER_TIMEOUT_MS = 2000;
/** The MongoDB driver's default heartbeatFrequencyMS: without an event, an idle client notices an outage this late. */
const IDLE_HEARTBEAT_MS = 10_000;
/** The log lines that say the package knows: a probe started, or requests now get 503. */
const KNOWS = /may be unreachable|requests get 503/;

interface Target {
  id: string;
  label: string;
  driverNote: string;
  /** The migrated middleware: `createDatabase(adapter)` from the built package. */
  ours(log: ReturnType<typeof timedLogger>): { middleware: Middleware; close(): Promise<void> };
  /** The app's original middleware. */
  handWritten(): { middleware: Middleware; close(): Promise<void> };
  read(db: any): Promise<unknown>;
  outage(): Promise<void>;
  recover(): Promise<void>;
  teardown(): Promise<void>;
}

let sandboxes: Record<"v4" | "v7", DriverSandbox>;

beforeAll(async () => {
  const build = await buildPackage();
  const [v4, v7] = await Promise.all([sandboxWithMongoDriver("mongodb-v4", build), sandboxWithMongoDriver("mongodb", build)]).finally(() => build.remove());
  sandboxes = { v4, v7 };
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(sandboxes ?? {}).map((s) => s.remove()));
  await closeAdmin();
});

async function pgTarget(): Promise<Target> {
  const base = await postgresUrl();
  const proxy: TcpProxy = await proxyInFrontOf(base, 5432);
  const url = withUrl(base, { port: proxy.port });
  const app = uniqueName("ndc_v0_after");
  const { index } = sandboxes.v7;
  const { pg } = await sandboxes.v7.pg();
  return {
    id: "pg",
    label: "PostgreSQL",
    driverNote: "pg",
    ours: (log) => {
      const database = index.createDatabase(pg({ connectionString: url, application_name: app, max: 4 }), { name: app, logger: log, connectTimeoutMs: CONNECT_TIMEOUT_MS });
      return { middleware: database, close: () => database.close() };
    },
    handWritten: () => handWrittenPgMiddleware({ connectionString: url, application_name: `${app}_control`, max: 4, connectionTimeoutMillis: DRIVER_TIMEOUT_MS }),
    read: async (db) => (await db.query("SELECT 1 AS one")).rows,
    outage: () => proxy.down(),
    recover: async () => void (await proxy.up()),
    teardown: () => proxy.down(),
  };
}

async function mongoTarget(major: "v4" | "v7"): Promise<Target> {
  const { server, uri } = await wireServerTarget();
  const sandbox = sandboxes[major];
  const app = uniqueName(`ndc_v0_after_${major}`);
  const dbName = "ndc_v0_after";
  const seed = new sandbox.driver.MongoClient(uri);
  await seed.db(dbName).collection("posts").insertMany([{ title: "a" }, { title: "b" }]);
  await seed.close();
  return {
    id: `mongodb-${major}`,
    label: MONGO_LABEL,
    driverNote: `mongodb ${sandbox.version}`,
    ours: (log) => {
      const database = sandbox.index.createDatabase(sandbox.adapter.mongodb({ url: `${uri}/${dbName}`, appName: app }), {
        name: app,
        logger: log,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
      return { middleware: database, close: () => database.close() };
    },
    handWritten: () => handWrittenMongoMiddleware(sandbox.driver, uri, dbName, { appName: `${app}_control`, serverSelectionTimeoutMS: DRIVER_TIMEOUT_MS, connectTimeoutMS: DRIVER_TIMEOUT_MS }),
    read: (db) => db.collection("posts").find({}, { projection: { _id: 0 } }).limit(5).toArray(),
    outage: () => server.stop(),
    recover: async () => void (await server.start()),
    teardown: () => server.stop(),
  };
}

interface Run {
  exchanges: Exchange[];
  downAt: number;
  upAt: number;
  knownAt: number | null;
  log: ReturnType<typeof timedLogger>;
}

async function outageUnderLoad(target: Target, kind: "ours" | "control"): Promise<Run> {
  const log = timedLogger();
  const { middleware, close } = kind === "ours" ? target.ours(log) : target.handWritten();
  const http = await serveNode(classicV0Route(middleware, target.read, appOnError) as never);
  const loop = clientLoop(`${http.url}/api/posts`, CLIENTS, { pauseMs: 5 });
  try {
    await loop.until((d) => d.filter((e) => e.status === 200).length >= 20, 20_000, "20 answers before the outage");
    const downAt = Date.now();
    await target.outage();
    let knownAt: number | null = null;
    if (kind === "ours") {
      await loop.until(() => log.firstAfter(downAt, KNOWS) !== undefined, 15_000, "the package to log the outage");
      knownAt = log.firstAfter(downAt, KNOWS)!.at;
      await loop.until((d) => d.filter((e) => e.startedAt > knownAt!).length >= 40, 15_000, "40 requests started after the package knew");
    } else {
      await loop.until((d) => d.filter((e) => e.startedAt > downAt).length >= 2 * CLIENTS, 30_000, "two outage requests per client");
    }
    const upAt = Date.now();
    // A fast 503 can start and end within the millisecond upAt was read in: let the clock pass it
    // before recovering, so that "started at or before upAt" is exactly "started during the outage".
    while (Date.now() <= upAt) await new Promise((resolve) => setImmediate(resolve));
    await target.recover();
    await loop.until((d) => d.some((e) => e.startedAt > upAt && e.status === 200), 30_000, "a 200 after the database is back");
    return { exchanges: await loop.stop(), downAt, upAt, knownAt, log };
  } finally {
    await loop.stop();
    await http.close();
    await close().catch(() => {});
  }
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : 0);
const waited = (es: Exchange[]) => es.map((e) => e.endedAt - e.startedAt);

// MongoDB's outage is the wire server stopping and starting on its port: not something to do to a real mongod.
const mongoSkipped = needsWireServer("stop() and start() (the MongoDB outage of scenario 22)");

describe.each([
  { make: pgTarget, name: "PostgreSQL", skip: false },
  { make: () => mongoTarget("v4"), name: "MongoDB, driver 4.x", skip: mongoSkipped },
  { make: () => mongoTarget("v7"), name: "MongoDB, driver 7.x", skip: mongoSkipped },
].filter((t) => !t.skip))("v0 app, database down after the first connect: $name", ({ make }) => {
  let target: Target;
  beforeAll(async () => {
    target = await make();
  });
  afterAll(async () => {
    await target?.teardown();
  });

  it("every request that starts after the package knew gets 503 with Retry-After at once; only those in flight reach the app's 500", async () => {
    const r = await outageUnderLoad(target, "ours");
    const knownAt = r.knownAt!;
    const during = r.exchanges.filter((e) => e.startedAt >= r.downAt && e.startedAt <= r.upAt);
    const afterKnown = during.filter((e) => e.startedAt > knownAt);
    // In flight when the database went: started before, answered after.
    const appErrors = r.exchanges.filter((e) => e.endedAt >= r.downAt && e.status === 500);
    const firstInFlightEnd = Math.min(...during.filter((e) => e.startedAt < knownAt).map((e) => e.endedAt), Infinity);
    if (process.env.NDC_DEBUG) console.log(r.log.lines.map((l) => `${l.at - r.downAt} ${l.message}`).join("\n"));
    recordFigures(`22-v0-after-connect-${target.id}`, {
      scenario: "22. Outage after the first connect, v0 app without database.onError",
      database: target.label,
      load: `${CLIENTS} clients in a loop, ${target.driverNote}`,
      faults: target.id === "pg" ? "proxy refuses and cuts every connection" : "wire server stops",
      requests: r.exchanges.length,
      statuses: countStatuses(r.exchanges.map((e) => e.status)),
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: Math.max(...waited(afterKnown)),
      recoveryMs: (r.exchanges.find((e) => e.startedAt > r.upAt && e.status === 200)?.endedAt ?? r.upAt) - r.upAt,
      leaks: null,
      notes: `knew ${knownAt - r.downAt} ms after the outage; ${appErrors.length} in-flight requests got the app's 500; ` +
        `${afterKnown.length} later ones got 503 (median wait ${median(waited(afterKnown))} ms)`,
      command: COMMAND,
    });
    expect(afterKnown.length).toBeGreaterThanOrEqual(40);
    for (const e of afterKnown) {
      expect(e.status, `request started ${e.startedAt - knownAt} ms after the package knew`).toBe(503);
      expect(Number(e.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(e.body)).toMatchObject({ error: "database_unavailable" });
    }
    // The app's 500 only for requests that were already running when the package learnt it.
    for (const e of appErrors) expect(e.startedAt).toBeLessThanOrEqual(knownAt);
    // It knew before the driver's own timeout answered the first of them, and the 503s did not wait for one.
    expect(knownAt).toBeLessThan(Math.max(firstInFlightEnd, r.downAt + DRIVER_TIMEOUT_MS));
    expect(median(waited(afterKnown))).toBeLessThan(DRIVER_TIMEOUT_MS / 2);
    // Back without a restart.
    expect(r.exchanges.some((e) => e.startedAt > r.upAt && e.status === 200)).toBe(true);
  }, 60_000);

  it("down while idle: once the package has logged it, the very first request gets 503 (control: the hand-written middleware's first request is the app's 500)", async (t) => {
    if (target.id === "mongodb-v4") {
      // Driver 4.x/5.x emit nothing when the server closes idle connections; they see it at their next heartbeat
      // (heartbeatFrequencyMS, 10 s by default) or when a request fails, and the package learns it then.
      t.skip();
      return;
    }
    const firstAfterIdleOutage = async (kind: "ours" | "control") => {
      const log = timedLogger();
      const { middleware, close } = kind === "ours" ? target.ours(log) : target.handWritten();
      const http = await serveNode(classicV0Route(middleware, target.read, appOnError) as never);
      try {
        for (let i = 0; i < 3; i++) expect((await fetch(`${http.url}/api/posts`)).status).toBe(200);
        const downAt = Date.now();
        await target.outage();
        // Ours: wait for the package's own word; the control has none, so it gets the same pause.
        if (kind === "ours") {
          const start = Date.now();
          while (!log.firstAfter(downAt, /requests get 503/) && Date.now() - start < IDLE_HEARTBEAT_MS / 2) await new Promise((r) => setTimeout(r, 20));
        }
        const known = log.firstAfter(downAt, /requests get 503/);
        if (kind === "control") await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        const res = await fetch(`${http.url}/api/posts`);
        const first = { status: res.status, retryAfter: res.headers.get("retry-after"), waitedMs: Date.now() - started, knownAfterMs: known ? known.at - downAt : null };
        await target.recover();
        return first;
      } finally {
        await target.recover();
        await http.close();
        await close().catch(() => {});
      }
    };
    const ours = await firstAfterIdleOutage("ours");
    const control = await firstAfterIdleOutage("control");
    // From the driver's event, not from its next heartbeat 10 s later.
    expect(ours.knownAfterMs, "the package logged the outage with no request running").not.toBeNull();
    expect(ours.knownAfterMs!).toBeLessThan(IDLE_HEARTBEAT_MS / 2);
    expect(ours.status).toBe(503);
    expect(Number(ours.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(ours.waitedMs).toBeLessThan(DRIVER_TIMEOUT_MS / 2);
    expect(control.status).toBe(500);
  }, 60_000);

  it("control: the original hand-written middleware answers the app's 500 to every request of the outage", async () => {
    const r = await outageUnderLoad(target, "control");
    const during = r.exchanges.filter((e) => e.startedAt >= r.downAt && e.startedAt <= r.upAt && e.endedAt <= r.upAt);
    recordFigures(`22-v0-after-connect-${target.id}-control`, {
      scenario: "22. Outage after the first connect (control: the hand-written middleware)",
      database: target.label,
      load: `${CLIENTS} clients in a loop, ${target.driverNote}`,
      faults: target.id === "pg" ? "proxy refuses and cuts every connection" : "wire server stops",
      requests: r.exchanges.length,
      statuses: countStatuses(r.exchanges.map((e) => e.status)),
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: Math.max(...waited(during)),
      recoveryMs: null,
      leaks: null,
      notes: `${during.length} outage requests, all the app's 500, median wait ${median(waited(during))} ms`,
      command: COMMAND,
    });
    expect(during.length).toBeGreaterThanOrEqual(CLIENTS);
    for (const e of during) expect(e.status).toBe(500);
    // Driver 4.x, the app: each waited out server selection.
    if (target.id === "mongodb-v4") expect(median(waited(during))).toBeGreaterThanOrEqual(DRIVER_TIMEOUT_MS * 0.8);
  }, 60_000);
});
