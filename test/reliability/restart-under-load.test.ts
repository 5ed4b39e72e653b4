/**
 * Scenario 2, restart under load. A private PostgreSQL (`pg_ctl stop -m fast`
 * / `start`), a private MariaDB (shutdown / start of its `mariadbd`) and the
 * MongoDB wire server (stop / start on its port) are restarted while
 * autocannon holds 50 connections against the app (from before the stop to
 * 3 s after the start), which runs in a child process. Every request runs a
 * query that takes 20 ms on the server (pg_sleep, SELECT SLEEP(), and mongod's
 * test command `sleep`, which the wire server answers; the MongoDB run checks
 * the server's count of them), so queries are in flight when the server goes away.
 *
 * Guarantee: the process survives, no unhandled rejection, every response is
 * 200 or 503 (no 500, no timeout), and success comes back after the restart.
 * Under next-connect v1 the middleware maps a lost connection to 503 by
 * itself; under next-connect v0 it takes `onError: database.onError`.
 *
 * Control, on each of the three servers: next-connect v0 with its default
 * onError (what apps had before `database.onError`) answers 500 for the
 * requests cut mid-query.
 *
 * The MongoDB runs stop and start the wire server: skipped under MONGODB_URI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, type Build } from "../support/build.js";
import { startFaultApp, type Driver, type FaultApp, type RouterKind } from "../support/fault-app.js";
import { recordFigures } from "../support/figures.js";
import { recoveryMs, runLoad } from "../support/load.js";
import type { MongoWireServer } from "../support/mongo-wire/index.js";
import { needsWireServer, wireServerTarget } from "../support/mongodb-target.js";
import { uniqueName } from "../support/postgres.js";
import { startPrivateMariadb, type PrivateMariadb } from "../support/private-mariadb.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { sleep } from "../support/wait.js";

/** The load runs until AFTER_MS past the restart, and never longer than MAX_SECONDS. */
const MAX_SECONDS = 20;
const AFTER_MS = 3000;
const CONNECTIONS = 50;
const FAULT_AT_MS = 1500;
const DOWN_FOR_MS = 1500;
const COMMAND = "npx vitest run test/reliability/restart-under-load.test.ts";

interface Restartable {
  label: "PostgreSQL" | "MariaDB" | "MongoDB (wire server)";
  driver: Driver;
  url: string;
  fault: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

let build: Build;
let pgServer: PrivatePostgres | undefined;
let mariadb: PrivateMariadb | undefined;
let mongo: MongoWireServer | undefined;
const withMongo = !needsWireServer("stop()/start() (scenario 2: restart under load)");
const targets: Partial<Record<Driver, Restartable>> = {};

beforeAll(async () => {
  build = await buildPackage();
  [pgServer, mariadb] = await Promise.all([startPrivatePostgres(), startPrivateMariadb()]);
  targets.pg = { label: "PostgreSQL", driver: "pg", url: pgServer.url, fault: "pg_ctl stop -m fast, then pg_ctl start", stop: () => pgServer!.stop(), start: () => pgServer!.start() };
  targets.mysql2 = { label: "MariaDB", driver: "mysql2", url: mariadb.url, fault: "mariadbd shutdown (SIGTERM), then a new mariadbd", stop: () => mariadb!.stop(), start: () => mariadb!.start() };
  if (withMongo) {
    const wire = await wireServerTarget();
    mongo = wire.server;
    targets.mongodb = { label: "MongoDB (wire server)", driver: "mongodb", url: `${wire.uri}/ndc_fault`, fault: "wire server stop, then start on the same port", stop: () => wire.server.stop(), start: async () => void (await wire.server.start()) };
  }
}, 120_000);

const cases = [
  { driver: "pg" as const, label: "PostgreSQL (private, pg_ctl)" },
  { driver: "mysql2" as const, label: "MariaDB (private mariadbd)" },
  ...(withMongo ? [{ driver: "mongodb" as const, label: "MongoDB wire server" }] : []),
];

afterAll(async () => {
  await Promise.all([pgServer?.destroy(), mariadb?.destroy(), mongo?.stop()]);
  await build?.remove();
});

async function restartUnderLoad(t: Restartable, router: RouterKind) {
  const app: FaultApp = await startFaultApp({
    build, driver: t.driver, url: t.url, app: uniqueName(`ndc_restart_${t.driver}`), router,
    cooldownMs: 250, maxCooldownMs: 1000, max: 10, connectTimeoutMs: 2000, queryTimeoutMs: 5000,
  });
  try {
    let faultEnd = 0;
    let stopMs = 0;
    const fault = (async () => {
      await sleep(FAULT_AT_MS);
      const stopping = Date.now();
      // Under load a server takes a while to stop: it ends every session first.
      await t.stop();
      stopMs = Date.now() - stopping;
      await sleep(DOWN_FOR_MS);
      await t.start();
      faultEnd = Date.now();
      await sleep(AFTER_MS);
    })();
    const sleepsBefore = mongo?.commandCount("sleep") ?? 0;
    const load = await runLoad(`${app.url}/slow?s=0.02`, { connections: CONNECTIONS, seconds: MAX_SECONDS, timeoutS: 10, stopWhen: fault });
    await fault;
    const report = await app.report().catch(() => null);
    // The wire server's own count of the slow commands it ran during the load (MongoDB only).
    const slowQueries = t.driver === "mongodb" ? (mongo?.commandCount("sleep") ?? 0) - sleepsBefore : null;
    return { load, faultEnd, stopMs, report, slowQueries, crashes: app.crashes(), stderr: app.stderr() };
  } finally {
    await app.stop();
  }
}

describe.each(["v1", "v0"] as const)("restart under load, next-connect %s", (router) => {
  it.each(cases)("$label: survives, 200/503 only, recovers", async ({ driver }) => {
    const t = targets[driver]!;
    const r = await restartUnderLoad(t, router);
    const recovery = recoveryMs(r.load.timeline, r.faultEnd);
    recordFigures(`2-restart-${t.driver}-${router}`, {
      scenario: "2. Restart under load",
      database: t.label,
      load: `autocannon, ${CONNECTIONS} connections, ${r.load.seconds} s, next-connect ${router}${router === "v0" ? " with onError: database.onError" : ""}`,
      faults: `${t.fault} at t=${FAULT_AT_MS / 1000} s (stop took ${(r.stopMs / 1000).toFixed(1)} s), down ${DOWN_FOR_MS / 1000} s more`,
      requests: r.load.requests,
      statuses: r.load.statuses,
      crashes: r.crashes,
      unhandledRejections: r.report?.unhandledRejections ?? -1,
      maxLatencyMs: r.load.maxLatencyMs,
      recoveryMs: recovery,
      leaks: null,
      ...(r.slowQueries !== null ? { notes: `${r.slowQueries} sleep commands (20 ms each) ran on the wire server during the load` } : {}),
      command: COMMAND,
    });
    expect(r.crashes, r.stderr).toBe(0);
    expect(r.report?.unhandledRejections).toBe(0);
    // Only 200 and 503: no 500, no timeout, no socket error.
    expect(Object.keys(r.load.statuses).sort()).toEqual(expect.arrayContaining(["200"]));
    for (const status of Object.keys(r.load.statuses)) expect(["200", "503"]).toContain(status);
    // The restart was felt (503s) and success came back after it.
    expect(r.load.statuses["503"] ?? 0).toBeGreaterThan(0);
    expect(recovery).not.toBeNull();
    // Every answered request ran its slow query on the server (the wire server counts them).
    if (r.slowQueries !== null) expect(r.slowQueries).toBeGreaterThanOrEqual(r.load.statuses["200"] ?? 0);
  }, 60_000);
});

describe("control", () => {
  it.each(cases)("$label: next-connect v0 with its default onError answers 500 for queries cut by the restart", async ({ driver }) => {
    const t = targets[driver]!;
    const r = await restartUnderLoad(t, "v0-plain");
    recordFigures(`2-restart-${t.driver}-v0-control`, {
      scenario: "2. Restart under load (control: next-connect v0 default onError)",
      database: t.label,
      load: `autocannon, ${CONNECTIONS} connections, ${r.load.seconds} s, next-connect v0 without database.onError`,
      faults: `${t.fault} at t=${FAULT_AT_MS / 1000} s (stop took ${(r.stopMs / 1000).toFixed(1)} s), down ${DOWN_FOR_MS / 1000} s more`,
      requests: r.load.requests,
      statuses: r.load.statuses,
      crashes: r.crashes,
      unhandledRejections: r.report?.unhandledRejections ?? -1,
      maxLatencyMs: r.load.maxLatencyMs,
      recoveryMs: recoveryMs(r.load.timeline, r.faultEnd),
      leaks: null,
      notes: `v0's default onError turns a lost connection into a 500${r.slowQueries !== null ? `; ${r.slowQueries} sleep commands ran on the wire server` : ""}`,
      command: COMMAND,
    });
    expect(r.crashes, r.stderr).toBe(0);
    expect(r.load.statuses["500"] ?? 0).toBeGreaterThan(0);
  }, 60_000);
});
