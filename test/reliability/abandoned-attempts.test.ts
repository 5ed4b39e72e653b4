/**
 * Scenario 14, abandoned connect attempts. The database is a black hole (the
 * TCP proxy accepts and never answers); the package gives up on each connect
 * at `connectTimeoutMs` (1 s) while the driver's own timeout would wait much
 * longer (pg `connectionTimeoutMillis: 0`, mysql2 `connectTimeout` 10 min,
 * MongoDB `connectTimeoutMS` and `serverSelectionTimeoutMS` 10 min). Requests
 * keep coming for 15 s, with short cooldowns so that many attempts are made
 * and abandoned.
 *
 * Guarantee: every abandoned attempt is closed with its sockets. The proxy
 * counts the connections still open on its side (sampled every 50 ms): never
 * more than 2 at any time, 0 once `close()` returned.
 *
 * Control: the hand-written bound, `Promise.race([connect-and-query, timeout])`
 * on a fresh pool each attempt (the cached promise forgotten on failure),
 * leaves one more open socket per attempt.
 */
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pgDriver from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";
import { closedLoop, statusCounts } from "../support/closed-loop.js";
import type { Driver } from "../support/fault-app.js";
import { recordFigures } from "../support/figures.js";
import { startLoadApp } from "../support/load-app.js";
import { loadTarget, type LoadTarget } from "../support/load-targets.js";
import { uniqueName } from "../support/postgres.js";
import { builtPackageForFile } from "../support/shared-targets.js";
import { proxyInFrontOf, type TcpProxy } from "../support/tcp-proxy.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/abandoned-attempts.test.ts";
const SECONDS = 15;
const CONNECT_TIMEOUT_MS = 1000;
const COOLDOWN_MS = 250;
const MAX_COOLDOWN_MS = 500;
const DRIVER_WAITS_LONG = 600_000;
const MOST_OPEN_AT_ONCE = 2;

const DRIVERS: Driver[] = ["pg", "mysql2", "mongodb"];

/** The driver's own connect timeout, set to (practically) never. */
const DRIVER_OPTIONS: Record<Driver, Record<string, unknown>> = {
  pg: { connectionTimeoutMillis: 0 },
  mysql2: { connectTimeout: DRIVER_WAITS_LONG },
  mongodb: { connectTimeoutMS: DRIVER_WAITS_LONG, serverSelectionTimeoutMS: DRIVER_WAITS_LONG },
};

const pkg = builtPackageForFile();

function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return u.toString();
}

/** Samples the proxy's open connections every 50 ms: the highest count seen, and the count now. */
function watchOpen(proxy: TcpProxy): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(proxy.open), 50);
  return {
    stop() {
      clearInterval(timer);
      samples.push(proxy.open);
      return samples;
    },
  };
}

/**
 * CONTROL: one connect attempt written by hand, bounded by a race. The losing
 * connect is simply forgotten, as `cached = null` in a catch does.
 */
async function naiveAttempt(driver: Driver, url: string): Promise<void> {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("connect timed out")), CONNECT_TIMEOUT_MS));
  let work: Promise<unknown>;
  if (driver === "pg") {
    const pool = new pgDriver.Pool({ connectionString: url, ...DRIVER_OPTIONS.pg });
    pool.on("error", () => {});
    work = pool.query("SELECT 1");
  } else if (driver === "mysql2") {
    work = mysql.createPool({ uri: url, ...DRIVER_OPTIONS.mysql2 }).query("SELECT 1");
  } else {
    const client = new MongoClient(url, DRIVER_OPTIONS.mongodb);
    client.on("error", () => {});
    work = client.connect().then((c) => c.db("admin").command({ ping: 1 }));
  }
  await Promise.race([work, timeout]).catch(() => {});
}

// The three databases at once: the scenario is waiting, not work, and the wait is long.
describe("abandoned connect attempts", () => {
  const targets = new Map<Driver, LoadTarget>();
  const proxies: TcpProxy[] = [];
  beforeAll(async () => {
    for (const driver of DRIVERS) targets.set(driver, await loadTarget(driver));
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.down();
    for (const target of targets.values()) await target.teardown();
  });

  it.concurrent.for(DRIVERS)(`%s: ${SECONDS} s of requests against a black hole: at most ${MOST_OPEN_AT_ONCE} sockets open at any time, 0 after close(); the hand-written race leaks one per attempt`, { timeout: 60_000 }, async (driver, { expect }) => {
    const target = targets.get(driver)!;
    const name = uniqueName(`ndc_abandon_${driver}`);
    const endpoint = await target.endpoint(name);
    const [ours, naive] = [await proxyInFrontOf(endpoint.url, 0), await proxyInFrontOf(endpoint.url, 0)];
    proxies.push(ours, naive);
    ours.blackhole(true);
    naive.blackhole(true);

    const app = await startLoadApp({
      build: pkg.build, driver, url: throughProxy(endpoint.url, ours), app: name, router: "v1", max: 3,
      driverOptions: DRIVER_OPTIONS[driver],
      dbOptions: { connectTimeoutMs: CONNECT_TIMEOUT_MS, retry: { cooldownMs: COOLDOWN_MS, maxCooldownMs: MAX_COOLDOWN_MS, jitter: 0 } },
    });
    let oursSamples: number[];
    let naiveSamples: number[];
    let load;
    let afterClose: number;
    let naiveAttempts = 0;
    let report;
    try {
      const oursWatch = watchOpen(ours);
      const naiveWatch = watchOpen(naive);
      const control = (async () => {
        const until = Date.now() + SECONDS * 1000;
        while (Date.now() < until) {
          await naiveAttempt(driver, throughProxy(endpoint.url, naive));
          naiveAttempts++;
          await sleep(MAX_COOLDOWN_MS);
        }
      })();
      [load] = await Promise.all([closedLoop(`${app.url}/q`, { clients: 4, seconds: SECONDS }), control]);
      oursSamples = oursWatch.stop();
      naiveSamples = naiveWatch.stop();
      report = await app.read();
      const closed = await fetch(`${app.url}/__close`);
      expect(closed.status).toBe(200);
      afterClose = await waitFor(() => ours.open, (n) => n === 0, 3000);
    } finally {
      await app.stop();
    }
    const attempts = ours.accepted;
    const most = Math.max(...oursSamples);
    const naiveLeft = naiveSamples.at(-1)!;
    recordFigures(`14-abandoned-attempts-${driver}`, {
      scenario: "14. Abandoned connect attempts",
      database: target.label,
      load: `4 clients × ${SECONDS} s, next-connect v1; cooldown ${COOLDOWN_MS} to ${MAX_COOLDOWN_MS} ms`,
      faults: `black hole (accepts, never answers); connectTimeoutMs ${CONNECT_TIMEOUT_MS} ms, driver timeout ${driver === "pg" ? "0" : `${DRIVER_WAITS_LONG / 60_000} min`}`,
      requests: load.answers.length,
      statuses: statusCounts(load.answers),
      crashes: app.crashes(),
      unhandledRejections: report.unhandledRejections,
      maxLatencyMs: Math.max(...load.answers.map((a) => a.ms)),
      recoveryMs: null,
      leaks: afterClose,
      notes: `${attempts} sockets accepted by the black hole; open at once: at most ${most} (sampled every 50 ms), ${oursSamples.at(-1)} at the end of the load, ${afterClose} after close()`,
      command: COMMAND,
    });
    recordFigures(`14-abandoned-attempts-${driver}-control`, {
      scenario: "14. Abandoned connect attempts (control: Promise.race([connect, timeout]) on a fresh pool)",
      database: target.label,
      load: `one attempt every ${CONNECT_TIMEOUT_MS + MAX_COOLDOWN_MS} ms for ${SECONDS} s`,
      faults: `black hole; race timeout ${CONNECT_TIMEOUT_MS} ms, driver timeout as above`,
      requests: naiveAttempts,
      statuses: {},
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: naiveLeft,
      notes: `${naiveAttempts} attempts, ${naive.accepted} sockets accepted, ${naiveLeft} still open at the end`,
      command: COMMAND,
    });

    expect(app.crashes(), app.stderr()).toBe(0);
    expect(report.unhandledRejections).toBe(0);
    expect(Object.keys(statusCounts(load.answers))).toEqual(["503"]);
    // Many attempts were made and given up on (about one per connect timeout and cooldown; fewer on a loaded machine),
    // enough for a leak of one socket each to show ...
    expect(attempts).toBeGreaterThan(MOST_OPEN_AT_ONCE * 2);
    // ... and none of them stayed.
    expect(most).toBeLessThanOrEqual(MOST_OPEN_AT_ONCE);
    expect(afterClose).toBe(0);
    // Control: every forgotten attempt is still connected.
    expect(naiveLeft).toBeGreaterThanOrEqual(naiveAttempts - 1);
    expect(naiveLeft).toBeGreaterThan(MOST_OPEN_AT_ONCE * 2);
  });
});
