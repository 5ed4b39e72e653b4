/**
 * Scenario 12, drains that drain: SIGTERM under steady keep-alive traffic, in
 * a custom server where `closeOnShutdown()` is the only SIGTERM handler (the
 * fault app, a child process; `next start` is in next-bundles.test.ts).
 *
 * Eight clients keep sending 300 ms requests (pg_sleep / SLEEP) over
 * keep-alive connections to a private PostgreSQL and a private MariaDB when
 * SIGTERM lands. The app prints when the signal reached it, and each 200
 * carries when its request reached the server (`x-arrived-at`).
 *
 * Guarantee:
 * - requests in flight at the signal finish with 200;
 * - requests that start after it get 503 with `Connection: close` and
 *   `Retry-After`, or a refused connection; no 200 arrived after the signal;
 * - the pools close before the process ends: no connection the server saw
 *   vanish without its goodbye (PostgreSQL at log_min_messages=debug1 logs
 *   "unexpected EOF on client connection" for those; MariaDB counts
 *   `Aborted_clients`), and none left afterwards;
 * - the process exits within the in-flight time plus a margin
 *   (EXIT_MARGIN_MS, for a loaded 2-core machine).
 *
 * Control in the same run: a hand-written drain that waits for the in-flight
 * count to reach 0 without refusing new requests: it keeps serving 200s
 * after the signal and exits only at its timeout.
 */
import mysql from "mysql2/promise";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultApp, type Driver } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { uniqueName } from "../support/postgres.js";
import { privateMysqlCount, startPrivateMariadb, type PrivateMariadb } from "../support/private-mariadb.js";
import { privatePgCount, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { analyseDrain, expectDrained } from "../support/drain.js";
import { requestLoops } from "../support/request-loops.js";
import { builtPackageForFile } from "../support/shared-targets.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/drain-under-load.test.ts";
const CLIENTS = 8;
const REQUEST_S = 0.3;
/** Both drains wait at most this long for requests in flight. */
const DRAIN_TIMEOUT_MS = 4000;
/** Exit within the in-flight time plus this: process start-up noise on a loaded 2-core machine. */
const EXIT_MARGIN_MS = 1500;

const pkg = builtPackageForFile();
let pgServer: PrivatePostgres;
let mariadb: PrivateMariadb;
let myAdmin: mysql.Pool;
let myUrl: string;

beforeAll(async () => {
  [pgServer, mariadb] = await Promise.all([startPrivatePostgres({ log_min_messages: "debug1", log_line_prefix: "%m:%a:" }), startPrivateMariadb()]);
  myAdmin = mysql.createPool({ uri: mariadb.url.replace(/\/test$/, "/"), connectionLimit: 1 });
  for (const host of ["%", "localhost"]) {
    await myAdmin.query("CREATE USER ?@? IDENTIFIED BY 'drain-pw'", ["ndc_drain", host]);
    await myAdmin.query("GRANT ALL ON test.* TO ?@?", ["ndc_drain", host]);
  }
  myUrl = `mysql://ndc_drain:drain-pw@127.0.0.1:${mariadb.port}/test`;
}, 120_000);

afterAll(async () => {
  await myAdmin?.end();
  await Promise.all([pgServer?.destroy(), mariadb?.destroy()]);
});

/** Connections the server saw end without the client's goodbye (the process died with them open). */
async function abortedOnServer(driver: Driver, app: string): Promise<number> {
  if (driver === "pg") {
    // log_line_prefix names the app: only this app's connections count.
    return (await readFile(pgServer.logFile, "utf8")).split("\n").filter((l) => l.includes(`:${app}:`) && l.includes("unexpected EOF on client connection")).length;
  }
  const [rows] = await myAdmin.query("SHOW GLOBAL STATUS LIKE 'Aborted_clients'");
  return Number((rows as Array<{ Value: string }>)[0]!.Value);
}

async function sigtermUnderLoad(driver: Driver, drain: "package" | "naive") {
  const app = uniqueName(`ndc_drain_${driver}`);
  const url = driver === "pg" ? pgServer.url : myUrl;
  const serverCount = () => (driver === "pg" ? privatePgCount(pgServer.url, app) : privateMysqlCount(mariadb.url, "ndc_drain"));
  const fault = await startFaultApp({
    build: pkg.build, driver, url, app, max: CLIENTS + 2,
    ...(drain === "package" ? { closeOnShutdown: true } : { naiveDrain: true }),
    shutdownTimeoutMs: DRAIN_TIMEOUT_MS,
  });
  const abortedBefore = await abortedOnServer(driver, app);
  const loops = requestLoops([{ label: "slow", url: `${fault.url}/slow?s=${REQUEST_S}` }], CLIENTS);
  try {
    // Steady state: every client has had a few answers.
    await waitFor(() => loops.answers.filter((a) => a.status === 200).length, (n) => n >= CLIENTS * 2, 15_000, 20);
    const before = await serverCount();
    const killAt = Date.now();
    const exit = await fault.signal("SIGTERM");
    const exitMs = Date.now() - killAt;
    await sleep(300);
    const answers = await loops.stop();
    const signalAt = Number(/SIGNAL (\d+)/.exec(fault.stdout())?.[1] ?? NaN);
    const after = await waitFor(serverCount, (n) => n === 0, 5000);
    await sleep(200); // the server's own bookkeeping of the last disconnections
    const aborted = (await abortedOnServer(driver, app)) - abortedBefore;
    return { answers, signalAt, killAt, exit, exitMs, before, after, aborted, stdout: fault.stdout() };
  } finally {
    await loops.stop();
    await fault.stop();
  }
}

function analyse(r: Awaited<ReturnType<typeof sigtermUnderLoad>>) {
  return analyseDrain(r.answers, r.signalAt);
}

function record(id: string, scenario: string, driver: Driver, r: Awaited<ReturnType<typeof sigtermUnderLoad>>, a: ReturnType<typeof analyse>, notes: string) {
  recordFigures(id, {
    scenario,
    database: driver === "pg" ? "PostgreSQL" : "MariaDB",
    load: `${CLIENTS} keep-alive clients sending ${REQUEST_S * 1000} ms requests, custom server (fault app)`,
    faults: `SIGTERM (drain timeout ${DRAIN_TIMEOUT_MS} ms)`,
    requests: r.answers.length,
    statuses: countStatuses(r.answers.map((x) => x.status)),
    crashes: 0,
    unhandledRejections: 0,
    maxLatencyMs: Math.round(Math.max(...r.answers.map((x) => x.ms))),
    recoveryMs: null,
    leaks: r.after,
    notes:
      `exit ${Math.round(r.exitMs)} ms after SIGTERM (${r.exit.code ?? r.exit.signal}), in-flight time left at the signal ${Math.round(a.inFlightLeftMs)} ms; ` +
      `in flight at the signal: ${JSON.stringify(countStatuses(a.inFlight.map((x) => x.status)))}; arrived after it: ${JSON.stringify(countStatuses(a.arrivedAfter.map((x) => x.status)))}, ` +
      `${a.okAfter.length} × 200 that reached the server after the signal, ${a.cut.length} sent before it and cut; connections ${r.before} before, ${r.after} after, ` +
      `${r.aborted} ended without the client's goodbye (${driver === "pg" ? "server log: unexpected EOF" : "Aborted_clients"}). ${notes}`,
    command: COMMAND,
  });
}

describe.each(["pg", "mysql2"] as const)("SIGTERM under steady keep-alive load, custom server: %s", (driver) => {
  it("requests in flight finish with 200, later ones get 503 + Connection: close, the pools close before exit, exit within the in-flight time plus a margin", async () => {
    const r = await sigtermUnderLoad(driver, "package");
    const a = analyse(r);
    record(`12-drain-under-load-${driver}`, "12. Shutdown under steady load (closeOnShutdown)", driver, r, a, "");
    expect(Number.isFinite(r.signalAt)).toBe(true);
    expect(r.stdout).toContain("SIGTERM: database pools closed");
    expect(r.exit.signal).toBe("SIGTERM");
    expectDrained(a, r, EXIT_MARGIN_MS);
    expect(r.aborted).toBe(0);
  }, 60_000);
});

describe("control: a hand-written drain that waits for no request in flight, refusing nothing", () => {
  it("keeps serving 200s after the signal and exits only at its timeout", async () => {
    const r = await sigtermUnderLoad("pg", "naive");
    const a = analyse(r);
    record("12-drain-under-load-pg-control-naive-drain", "12. Shutdown under steady load (control: wait for in-flight 0, refuse nothing)", "pg", r, a, r.stdout.includes("gave up") ? "the drain gave up at its timeout" : "");
    expect(a.okAfter.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/naive drain: gave up with \d+ in flight/);
    expect(r.exitMs).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS * 0.9);
  }, 60_000);
});
