/**
 * Scenario 13, `close()` with requests waiting for a connection. A pool of one
 * connection, held on the server by a slow request; five more requests queue
 * for it; then the app calls `close()` (its /__close route: what a shutdown
 * hook does).
 *
 * Guarantee: the five waiters get 503 with `reason: "closed"` and
 * `Retry-After` promptly (measured from the close; on MongoDB one of them may
 * instead be served, the driver's own close race), whatever the driver's
 * own wait bound says: pg's `connectionTimeoutMillis` at its default and at 0
 * (which the package does not take as "forever"), mysql2, MongoDB; nothing is
 * left on the server afterwards.
 *
 * Control, the same with a plain pool: node-postgres's `pool.end()` leaves its
 * queue waiting (still pending seconds after `end()` resolved); mysql2's and
 * the MongoDB driver's `close()` fail their waiters at once, but as errors the
 * app answers with its own 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notServedDuringClose } from "../support/close-race.js";
import { once, statusCounts, type Answered } from "../support/closed-loop.js";
import type { Driver } from "../support/fault-app.js";
import { recordFigures } from "../support/figures.js";
import { startLoadApp, type LoadRouter } from "../support/load-app.js";
import { loadTarget, type Endpoint, type LoadTarget } from "../support/load-targets.js";
import { uniqueName } from "../support/postgres.js";
import { builtPackageForFile } from "../support/shared-targets.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/close-waiters.test.ts";
const WAITERS = 5;
const HOLD_MS = 2000;
/** "Promptly", with the margin a loaded 2-core machine needs; measured values are in the figures (tens of ms). */
const PROMPT_MS = 1500;
/** How long after the close a control's waiter must still be waiting to count as left waiting. */
const STILL_WAITING_MS = 3000;

interface Case {
  id: string;
  driver: Driver;
  router: LoadRouter;
  driverOptions?: Record<string, unknown>;
  label: string;
}

const OURS: Case[] = [
  { id: "pg", driver: "pg", router: "v1", label: "connectionTimeoutMillis default, next-connect v1" },
  { id: "pg-timeout-0", driver: "pg", router: "route", driverOptions: { connectionTimeoutMillis: 0 }, label: "connectionTimeoutMillis: 0, database.route()" },
  { id: "mysql2", driver: "mysql2", router: "api", label: "database.api()" },
  { id: "mongodb", driver: "mongodb", router: "v1", label: "next-connect v1" },
];

const CONTROLS: Case[] = [
  { id: "pg-control", driver: "pg", router: "plain", label: "plain pg Pool (connectionTimeoutMillis default: wait forever)" },
  { id: "mysql2-control", driver: "mysql2", router: "plain", label: "plain mysql2 pool" },
  { id: "mongodb-control", driver: "mongodb", router: "plain", label: "plain MongoClient" },
];

const pkg = builtPackageForFile();

interface Outcome {
  waiters: Array<Answered & { afterCloseMs: number }>;
  holder: Answered;
  closedInMs: number;
  serverAfter: number;
  crashes: number;
  unhandledRejections: number;
}

async function closeWithWaiters(c: Case, target: LoadTarget): Promise<Outcome> {
  const name = uniqueName(`ndc_close_${c.driver}`);
  const endpoint: Endpoint = await target.endpoint(name);
  const app = await startLoadApp({
    build: pkg.build, driver: c.driver, url: endpoint.url, app: name, router: c.router, max: 1, ...(c.driverOptions ? { driverOptions: c.driverOptions } : {}),
  });
  try {
    expect((await once(`${app.url}/q`)).status).toBe(200);
    const holder = once(`${app.url}/hold?ms=${HOLD_MS}`);
    // The one connection is busy on the server before anyone queues for it.
    await waitFor(endpoint.serverCount, (n) => n >= 1 + endpoint.monitors, 5000);
    await sleep(200);
    let closedAt = 0;
    const waiters = Array.from({ length: WAITERS }, () =>
      once(`${app.url}/q`, HOLD_MS + STILL_WAITING_MS + 3000).then((a) => ({ ...a, afterCloseMs: closedAt ? Math.round(performance.now() - closedAt) : -1 })),
    );
    if (c.router !== "plain") {
      // Ours can say when they are all queued; the plain pool cannot, so it gets the same time once more.
      const queued = await waitFor(() => app.read(), (r) => (r.stats?.pool?.waiting ?? 0) >= WAITERS, 5000);
      expect(queued.stats?.pool?.waiting ?? 0).toBeGreaterThanOrEqual(WAITERS);
    } else {
      await sleep(500);
    }
    closedAt = performance.now();
    const closing = fetch(`${app.url}/__close`).then(async (r) => ((await r.json()) as { closedInMs: number }).closedInMs);
    const [answered, closedInMs, held] = await Promise.all([Promise.all(waiters), closing, holder]);
    const report = await app.read();
    return {
      waiters: answered, holder: held, closedInMs,
      serverAfter: await waitFor(endpoint.serverCount, (n) => n === 0, 5000),
      crashes: app.crashes(),
      unhandledRejections: report.unhandledRejections,
    };
  } finally {
    await app.stop();
  }
}

function record(c: Case, target: LoadTarget, r: Outcome, control: boolean): void {
  const slowest = Math.max(...r.waiters.map((w) => w.afterCloseMs));
  recordFigures(`13-close-waiters-${c.id}`, {
    scenario: control ? "13. close() with waiters (control: the driver's own end()/close())" : "13. close() with waiters",
    database: target.label,
    load: `pool of 1 held ${HOLD_MS} ms on the server; ${WAITERS} requests queued for it; ${c.label}`,
    faults: "close() while they wait",
    requests: r.waiters.length + 1,
    statuses: statusCounts([...r.waiters, r.holder]),
    crashes: r.crashes,
    unhandledRejections: r.unhandledRejections,
    maxLatencyMs: Math.max(...r.waiters.map((w) => w.ms)),
    recoveryMs: null,
    leaks: r.serverAfter,
    notes:
      `waiters answered ${r.waiters.map((w) => `${w.status}${w.reason ? ` ${w.reason}` : ""} at +${w.afterCloseMs} ms`).join(", ")} after close() was called ` +
      `(slowest +${slowest} ms); close() itself took ${r.closedInMs} ms; the request holding the connection: ${r.holder.status}${r.holder.reason ? ` ${r.holder.reason}` : ""}`,
    command: COMMAND,
  });
}

describe.each(["pg", "mysql2", "mongodb"] as const)("close() with waiters: %s", (driver) => {
  let target: LoadTarget;
  beforeAll(async () => {
    target = await loadTarget(driver);
  });
  afterAll(async () => {
    await target?.teardown();
  });

  it.each(OURS.filter((c) => c.driver === driver))("$label: every waiter gets 503 closed at once", async (c) => {
    const r = await closeWithWaiters(c, target);
    record(c, target, r, false);
    expect(r.crashes).toBe(0);
    expect(r.unhandledRejections).toBe(0);
    // MongoDB: the driver's close race may serve one waiter (test/support/close-race.ts).
    for (const w of driver === "mongodb" ? notServedDuringClose(r.waiters) : r.waiters) {
      expect(w.status).toBe(503);
      expect(w.reason).toBe("closed");
      expect(Number(w.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(w.afterCloseMs).toBeLessThan(PROMPT_MS);
    }
    expect(r.serverAfter).toBe(0);
  }, 30_000);

  it.each(CONTROLS.filter((c) => c.driver === driver))("control, $label", async (c) => {
    const r = await closeWithWaiters(c, target);
    record(c, target, r, true);
    if (driver === "pg") {
      // end() resolved, and its queue is still waiting seconds later: a request that never ends.
      expect(r.waiters.map((w) => w.status)).toEqual(Array(WAITERS).fill("timeout"));
      for (const w of r.waiters) expect(w.afterCloseMs).toBeGreaterThan(r.closedInMs + STILL_WAITING_MS);
    } else {
      // Failed at once, but as the app's own 500: no Retry-After, nothing says it is a restart.
      const failed = driver === "mongodb" ? notServedDuringClose(r.waiters) : r.waiters;
      expect(failed.map((w) => w.status)).toEqual(Array(failed.length).fill(500));
      for (const w of r.waiters) expect(w.retryAfter).toBeNull();
    }
  }, 30_000);
});
