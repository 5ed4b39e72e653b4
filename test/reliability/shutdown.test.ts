/**
 * Scenario 7, shutdown under `next start` (Next.js 16, a real build of
 * test/fixtures/next-shutdown-app: a Pages API route with next-connect, an
 * App Router route handler, instrumentation.js). Six slow requests are in
 * flight (pg_sleep, then a second query) when SIGTERM lands.
 *
 * - with `closeOnShutdown()` from instrumentation: every in-flight request
 *   finishes with 200, the pools are closed before the process ends, and the
 *   server shows 0 connections from the app afterwards;
 * - control, Next.js alone: Next 16 already lets in-flight requests finish
 *   (it closes its HTTP server first), then exits without closing the pools;
 * - control, the usual hand-written hook (`await pool.close(); process.exit(0)`):
 *   the pool is closed under the requests in flight, which fail.
 *
 * And without Next.js (a custom server where closeOnShutdown() is the only
 * SIGTERM handler): it drains, closes, then lets the signal end the process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage } from "../support/build.js";
import { startFaultApp } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { buildNextFixture, nextStart } from "../support/next-app.js";
import { adminQuery, closeAdmin, pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/shutdown.test.ts";
const IN_FLIGHT_PER_ROUTER = 3;
const SLEEP_S = 2;

let app: { dir: string; remove(): Promise<void> };
afterAll(async () => {
  await closeAdmin();
});

type Mode = "package" | "none" | "naive";

async function sigtermWithRequestsInFlight(mode: Mode) {
  const name = uniqueName(`ndc_shutdown_${mode}`);
  const server = await nextStart(app.dir, { NDC_PG_URL: await postgresUrl(), NDC_APP: name, NDC_SHUTDOWN: mode });
  try {
    for (const path of ["/api/slow?s=0", "/api/app-slow?s=0"]) expect((await fetch(server.url + path)).status).toBe(200);
    const started = performance.now();
    const requests = ["/api/slow", "/api/app-slow"].flatMap((path) =>
      Array.from({ length: IN_FLIGHT_PER_ROUTER }, async () => {
        try {
          const res = await fetch(`${server.url}${path}?s=${SLEEP_S}`, { signal: AbortSignal.timeout(20_000) });
          await res.text();
          return { status: String(res.status), ms: performance.now() - started };
        } catch (err) {
          return { status: (err as Error).name === "TimeoutError" ? "timeout" : "error", ms: performance.now() - started };
        }
      }),
    );
    // On the server: every request is inside its pg_sleep now.
    const sleeping = await waitFor(
      async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [name]))[0]!.n),
      (n) => n >= IN_FLIGHT_PER_ROUTER * 2,
      10_000,
    );
    const before = await pgConnectionCount(name);
    const sigtermAt = performance.now();
    server.child.kill("SIGTERM");
    const results = await Promise.all(requests);
    const exit = await server.exited;
    const exitMs = performance.now() - sigtermAt;
    const after = await waitFor(() => pgConnectionCount(name), (n) => n === 0, 5000);
    const statuses = countStatuses(results.map((r) => r.status));
    return { sleeping, before, statuses, exit, exitMs, after, output: server.output(), maxMs: Math.max(...results.map((r) => r.ms)) };
  } finally {
    server.kill();
  }
}

function record(id: string, scenario: string, r: Awaited<ReturnType<typeof sigtermWithRequestsInFlight>>, notes: string) {
  recordFigures(id, {
    scenario,
    database: "PostgreSQL",
    load: `${IN_FLIGHT_PER_ROUTER * 2} requests in flight (Pages API + App Router, pg_sleep(${SLEEP_S}) then a second query)`,
    faults: "SIGTERM to next start",
    requests: IN_FLIGHT_PER_ROUTER * 2,
    statuses: r.statuses,
    crashes: 0,
    unhandledRejections: 0,
    maxLatencyMs: Math.round(r.maxMs),
    recoveryMs: null,
    leaks: r.after,
    notes: `${notes}; exit ${r.exit.code ?? r.exit.signal} ${Math.round(r.exitMs)} ms after SIGTERM; ${r.before} connections before, ${r.after} after`,
    command: COMMAND,
  });
}

describe("SIGTERM under next start", () => {
  beforeAll(async () => {
    app = await buildNextFixture("next-shutdown-app");
  }, 240_000);
  afterAll(async () => {
    await app?.remove();
  });

  it("closeOnShutdown(): in-flight requests finish, then the pools close; 0 connections afterwards", async () => {
    const r = await sigtermWithRequestsInFlight("package");
    const closedLine = /SIGTERM: database pools closed/.test(r.output);
    record("7-shutdown-pg", "7. Shutdown (closeOnShutdown)", r, `pools closed before exit: ${closedLine ? "yes" : "no"}`);
    expect(r.sleeping).toBeGreaterThanOrEqual(IN_FLIGHT_PER_ROUTER * 2);
    expect(r.statuses).toEqual({ "200": IN_FLIGHT_PER_ROUTER * 2 });
    expect(r.output).toMatch(/SIGTERM: waiting for \d+ request\(s\) in flight/);
    expect(closedLine).toBe(true);
    expect(r.after).toBe(0);
  }, 60_000);

  it("control: Next.js alone lets in-flight requests finish but exits without closing the pools", async () => {
    const r = await sigtermWithRequestsInFlight("none");
    const closedLine = /database pools closed/.test(r.output);
    record("7-shutdown-pg-control-none", "7. Shutdown (control: Next.js's own SIGTERM handling)", r, `pools closed before exit: ${closedLine ? "yes" : "no"}`);
    expect(r.statuses).toEqual({ "200": IN_FLIGHT_PER_ROUTER * 2 });
    expect(closedLine).toBe(false);
    expect(r.exit.code).toBe(143);
  }, 60_000);

  it("control: the usual `await close(); process.exit(0)` hook cuts the requests in flight", async () => {
    const r = await sigtermWithRequestsInFlight("naive");
    record("7-shutdown-pg-control-naive", "7. Shutdown (control: hand-written close-and-exit hook)", r, "the pool closed under the requests in flight");
    expect(r.statuses["200"] ?? 0).toBeLessThan(IN_FLIGHT_PER_ROUTER * 2);
  }, 60_000);
});

describe("SIGTERM in a custom server (closeOnShutdown is the only handler)", () => {
  it("drains the requests in flight, closes the pools, then the process ends by SIGTERM", async () => {
    const build = await buildPackage();
    const name = uniqueName("ndc_shutdown_custom");
    const app = await startFaultApp({ build, driver: "pg", url: await postgresUrl(), app: name, max: 5, closeOnShutdown: true });
    try {
      const requests = Array.from({ length: 5 }, () => fetch(`${app.url}/slow?s=1`).then((r) => r.status, () => "error"));
      await waitFor(
        async () => Number((await adminQuery("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [name]))[0]!.n),
        (n) => n >= 5,
        10_000,
      );
      const exit = await app.signal("SIGTERM");
      const statuses = await Promise.all(requests);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(app.stdout()).toMatch(/SIGTERM: waiting for 5 request\(s\) in flight/);
      expect(app.stdout()).toContain("SIGTERM: database pools closed");
      expect(exit.signal).toBe("SIGTERM");
      expect(await waitFor(() => pgConnectionCount(name), (n) => n === 0, 5000)).toBe(0);
    } finally {
      await app.stop();
      await build.remove();
    }
  }, 60_000);
});
