/**
 * Scenario 17, the state learned from the driver itself.
 *
 * The database goes down after the first connect, under steady traffic
 * through every router style at once (test/support/router-styles.ts: two
 * clients per style), with no line of the app changed for it. Two outages per
 * database:
 *
 * - `stop`: the server itself stops (a private PostgreSQL `pg_ctl stop -m
 *   fast`, a private `mariadbd` shut down, the wire server's `stop()`);
 * - `partition`: the TCP proxy in front of it goes silent (open connections
 *   and new ones): nothing is closed, only a query that times out tells.
 *
 * "The package knows" is the first line the lifecycle logs about it (may be
 * unreachable / the driver lost the server / connect failed). Guarantee: every
 * request that starts after that gets the package's 503 with Retry-After,
 * under every style, next-connect v0 without `database.onError` included;
 * only requests already in flight may get the app's 500.
 *
 * Control in the same outage: the hand-written middleware (`req.db` from a
 * pool cached at module scope, next-connect v0) answers 500 to every request
 * of the outage, each after the driver's timeout.
 */
import nextConnectV0 from "next-connect-v0";
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pgDriver from "pg";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { serveNode, type TestServer } from "../support/http.js";
import { MongoWireServer } from "../support/mongo-wire/index.js";
import { uniqueName } from "../support/postgres.js";
import { startPrivateMariadb, type PrivateMariadb } from "../support/private-mariadb.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { median, requestLoops, type LoopAnswer } from "../support/request-loops.js";
import { get, isPackage503, ROUTER_STYLES, serveRouterStyles } from "../support/router-styles.js";
import { proxyInFrontOf, type TcpProxy } from "../support/tcp-proxy.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/learned-state.test.ts";
/** How long a connect, and a query on a silent connection, may take before the driver gives up. */
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 1500;
/** Traffic before the outage, and after the package knew. */
const BEFORE_MS = 500;
const AFTER_KNOWN_MS = 1500;
/** The lifecycle's own lines that say it learned the database is gone. */
const KNOWS = /may be unreachable|the driver lost the server|connect failed|still unreachable/;

type Outage = "stop" | "partition";

interface Target {
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  driver: "pg" | "mysql2" | "mongodb";
  proxy: TcpProxy;
  stop(): Promise<void>;
  start(): Promise<void>;
  adapter(app: string): ReturnType<typeof pg> | ReturnType<typeof mysql2> | ReturnType<typeof mongodb>;
  query(db: any): Promise<unknown>;
  /** CONTROL: the driver's own pool with the same settings, as a hand-written middleware caches it. */
  naivePool(app: string): Promise<{ db: any; close(): Promise<void> }>;
  teardown(): Promise<void>;
}

let pgServer: PrivatePostgres | undefined;
let mariadb: PrivateMariadb | undefined;
let mongo: MongoWireServer | undefined;
const targets: Target[] = [];

beforeAll(async () => {
  [pgServer, mariadb] = await Promise.all([startPrivatePostgres(), startPrivateMariadb()]);
  mongo = new MongoWireServer();
  await mongo.start();
  const pgProxy = await proxyInFrontOf(pgServer.url, 5432);
  const pgUrl = Object.assign(new URL(pgServer.url), { port: String(pgProxy.port) }).toString();
  const myProxy = await proxyInFrontOf(mariadb.url, 3306);
  const myUrl = Object.assign(new URL(mariadb.url), { port: String(myProxy.port) }).toString();
  const mongoProxy = await proxyInFrontOf(mongo.uri, 27017);
  const mongoUrl = `mongodb://127.0.0.1:${mongoProxy.port}/ndc_learned`;
  const pgConfig = (app: string) => ({ connectionString: pgUrl, application_name: app, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  const myConfig = { uri: myUrl, connectionLimit: 10, connectTimeout: CONNECT_TIMEOUT_MS };
  const mongoConfig = (app: string) => ({ appName: app, maxPoolSize: 10, serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS, connectTimeoutMS: CONNECT_TIMEOUT_MS, socketTimeoutMS: QUERY_TIMEOUT_MS });
  targets.push(
    {
      label: "PostgreSQL", driver: "pg", proxy: pgProxy,
      stop: () => pgServer!.stop(), start: () => pgServer!.start(),
      adapter: (app) => pg(pgConfig(app)),
      query: (db) => db.query("SELECT 1 AS one"),
      async naivePool(app) {
        const pool = new pgDriver.Pool(pgConfig(app));
        pool.on("error", () => {}); // even the hand-written one has this much
        return { db: pool, close: () => pool.end() };
      },
      teardown: () => pgProxy.down(),
    },
    {
      label: "MariaDB", driver: "mysql2", proxy: myProxy,
      stop: () => mariadb!.stop(), start: () => mariadb!.start(),
      adapter: () => mysql2(myConfig),
      query: (db) => db.query({ sql: "SELECT 1 AS one", timeout: QUERY_TIMEOUT_MS }),
      async naivePool() {
        const pool = mysql.createPool(myConfig);
        return { db: pool, close: () => pool.end() };
      },
      teardown: () => myProxy.down(),
    },
    {
      label: "MongoDB (wire server)", driver: "mongodb", proxy: mongoProxy,
      stop: () => mongo!.stop(), start: async () => void (await mongo!.start()),
      adapter: (app) => mongodb({ url: mongoUrl, ...mongoConfig(app) }),
      query: (db) => db.command({ ping: 1 }),
      async naivePool(app) {
        const client = new MongoClient(mongoUrl, mongoConfig(app));
        return { db: client.db("ndc_learned"), close: () => client.close() };
      },
      teardown: () => mongoProxy.down(),
    },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(targets.map((t) => t.teardown()));
  await Promise.all([pgServer?.destroy(), mariadb?.destroy(), mongo?.stop()]);
});

function timedLogger() {
  const lines: Array<{ at: number; level: string; text: string }> = [];
  const keep = (level: string) => (text: string) => void lines.push({ at: Date.now(), level, text });
  return { lines, debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
}

/** The hand-written middleware: a pool cached once, `req.db` set from it, next-connect v0 with its default onError. */
async function serveHandWritten(db: any, query: (db: any) => Promise<unknown>): Promise<TestServer> {
  type Req = IncomingMessage & { db: any };
  const handler = nextConnectV0<Req, ServerResponse>()
    .use((req: Req, _res: ServerResponse, next: () => void) => {
      req.db = db;
      next();
    })
    .all(async (req: Req, res: ServerResponse) => {
      await query(req.db);
      res.end('{"ok":true}');
    });
  return serveNode(handler as never);
}

async function outageUnderLoad(t: Target, outage: Outage) {
  const app = uniqueName(`ndc_learned_${t.driver}`);
  const log = timedLogger();
  const database = createDatabase(t.adapter(app), {
    name: app, logger: log, connectTimeoutMs: 3000, healthTimeoutMs: 1000,
    retry: { cooldownMs: 500, maxCooldownMs: 1000 },
  });
  const styles = await serveRouterStyles(database, ({ db }) => t.query(db));
  const naive = await t.naivePool(`${app}_ctl`);
  const control = await serveHandWritten(naive.db, t.query);
  try {
    for (const style of ROUTER_STYLES) expect((await get(styles.url(style))).status, style).toBe(200);
    expect((await get(`${control.url}/q`)).status).toBe(200);

    const loops = requestLoops([...ROUTER_STYLES.map((style) => ({ label: style, url: styles.url(style) })), { label: "control", url: `${control.url}/q` }], 2);
    await sleep(BEFORE_MS);
    const outageAt = Date.now();
    if (outage === "stop") await t.stop();
    else t.proxy.partition(true);
    const known = await waitFor(() => log.lines.find((l) => l.at >= outageAt && KNOWS.test(l.text)), (l) => l !== undefined, 15_000, 10);
    const knownAt = known?.at ?? Infinity;
    // One fresh request per style as well: loops may still be stuck in requests that were in flight.
    const fresh = await Promise.all(ROUTER_STYLES.map(async (style) => ({ ...(await get(styles.url(style))), label: style })));
    await sleep(AFTER_KNOWN_MS);
    const endAt = Date.now();
    const stats = database.stats();
    const answers = [...(await loops.stop()), ...fresh];

    if (outage === "stop") await t.start();
    else {
      t.proxy.partition(false);
      t.proxy.cutAll(); // what a real partition leaves behind: the connections stuck in it are gone
    }
    const healedAt = Date.now();
    const recovered = await waitFor(
      async () => (await Promise.all(ROUTER_STYLES.map((style) => get(styles.url(style))))).map((a) => a.status),
      (statuses) => statuses.every((s) => s === 200),
      20_000,
      200,
    );
    return { app, answers, outageAt, knownAt, known, endAt, stats, recovered, recoveryMs: Date.now() - healedAt, log };
  } finally {
    await styles.close();
    await control.close();
    await database.close();
    await naive.close().catch(() => {});
  }
}

function analyse(r: Awaited<ReturnType<typeof outageUnderLoad>>) {
  const ours = r.answers.filter((a) => a.label !== "control");
  const during = (a: LoopAnswer) => a.startedAt + a.ms >= r.outageAt && a.startedAt < r.endAt;
  const after = ours.filter((a) => a.startedAt >= r.knownAt && a.startedAt < r.endAt);
  const appErrors = ours.filter((a) => during(a) && a.status !== 200 && !isPackage503(a));
  const control = r.answers.filter((a) => a.label === "control" && a.startedAt >= r.knownAt && a.startedAt < r.endAt);
  return {
    after,
    afterNot503: after.filter((a) => !isPackage503(a)),
    appErrors,
    appErrorsAfterKnown: appErrors.filter((a) => a.startedAt >= r.knownAt),
    inFlightAtKnown: ours.filter((a) => a.startedAt < r.knownAt && a.startedAt + a.ms >= r.knownAt).length,
    control,
    controlStatuses: countStatuses(control.map((a) => a.status)),
    v0PlainAfter: after.filter((a) => a.label === "v0-plain"),
  };
}

describe.each([0, 1, 2])("the state learned from the driver: target %i", (i) => {
  it.each(["stop", "partition"] as const)("%s: every request that starts after the package knows gets 503 + Retry-After in every router style; control: the hand-written middleware answers 500 throughout", async (outage) => {
    const t = targets[i]!;
    const r = await outageUnderLoad(t, outage);
    const a = analyse(r);
    if (process.env.NDC_DEBUG) {
      console.log(r.log.lines.map((l) => `${l.at - r.outageAt} ${l.level} ${l.text}`).join("\n"));
      console.log(r.answers.filter((x) => x.startedAt + x.ms >= r.outageAt).map((x) => `${x.label} start+${x.startedAt - r.outageAt} ${Math.round(x.ms)}ms ${x.status} ${x.body.slice(0, 60)}`).join("\n"));
    }
    const afterMs = a.after.map((x) => x.ms);
    const controlMs = a.control.map((x) => x.ms);
    const detail = a.afterNot503.slice(0, 5).map((x) => `${x.label} ${x.status} +${x.startedAt - r.knownAt}ms ${x.body.slice(0, 80)}`).join("; ");
    recordFigures(`17-learned-state-${t.driver}-${outage}`, {
      scenario: "17. State learned from the driver",
      database: t.label,
      load: `2 clients per router style (${ROUTER_STYLES.length} styles) + 2 on a hand-written control, ${BEFORE_MS} ms before the outage to ${AFTER_KNOWN_MS} ms after the package knew`,
      faults: outage === "stop" ? "the server stops (private server / wire server stop())" : `the network goes silent (proxy partition; connect timeout ${CONNECT_TIMEOUT_MS} ms, query timeout ${QUERY_TIMEOUT_MS} ms)`,
      requests: r.answers.filter((x) => x.label !== "control").length,
      statuses: countStatuses(r.answers.filter((x) => x.label !== "control" && x.startedAt + x.ms >= r.outageAt).map((x) => x.status)),
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: afterMs.length ? Math.round(Math.max(...afterMs)) : null,
      recoveryMs: r.recoveryMs,
      leaks: null,
      notes:
        `package knew ${r.knownAt - r.outageAt} ms after the outage began ("${r.known?.text.replace(/^.*?: /, "").slice(0, 60)}…"); ` +
        `${a.appErrors.length} app errors (500/socket), all from the ${a.inFlightAtKnown} requests in flight before it knew: ${a.appErrorsAfterKnown.length} after; ` +
        `${a.after.length} requests started after it knew: ${a.after.length - a.afterNot503.length} × 503 with Retry-After (v0 without onError: ${a.v0PlainAfter.filter(isPackage503).length}/${a.v0PlainAfter.length}), ` +
        `wait median ${Math.round(median(afterMs) ?? 0)} ms, max ${Math.round(Math.max(0, ...afterMs))} ms; stats at the end: state ${r.stats.state}, failures ${r.stats.failures}. ` +
        `Control (hand-written req.db middleware, same outage): ${JSON.stringify(a.controlStatuses)}, each after median ${Math.round(median(controlMs) ?? 0)} ms.`,
      command: COMMAND,
    });

    expect(r.known, "the package never learned of the outage").toBeDefined();
    expect(a.after.length).toBeGreaterThanOrEqual(ROUTER_STYLES.length);
    expect(a.afterNot503, detail).toEqual([]);
    // Every style, the one with no error handler of ours included, answered the 503 itself.
    for (const style of ROUTER_STYLES) expect(a.after.filter((x) => x.label === style).length, style).toBeGreaterThan(0);
    expect(a.appErrorsAfterKnown).toEqual([]);
    expect(["unavailable", "checking"]).toContain(r.stats.state);
    expect(r.stats.failures).toBeGreaterThan(0);
    expect(r.recovered.every((s) => s === 200)).toBe(true);
    // Control: the hand-written middleware never answers 503; it answers 500 (or nothing) throughout.
    expect(a.control.length).toBeGreaterThan(0);
    expect(a.control.filter((x) => x.status === 200 || x.status === 503)).toEqual([]);
  }, 90_000);
});
