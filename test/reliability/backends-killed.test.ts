/**
 * Scenario 3, backends killed by the server, mid-query and idle:
 * `pg_terminate_backend`, MariaDB `KILL`, the wire server's
 * `killAllConnections`. The app runs in a child process under load; every
 * session of its pool is ended twice while queries run, then once more when
 * the pool is idle. No crash, no unhandled rejection, only 200 or 503 during
 * the kills, and every request afterwards succeeds.
 *
 * Control (PostgreSQL): a bare `pg.Pool` without an 'error' listener dies on
 * the idle kill (test/fixtures/no-crash-child.mjs, shared with
 * test/no-crash.test.ts).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/build.js";
import { startFaultApp } from "../support/fault-app.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { runLoad } from "../support/load.js";
import { pgConnectionCount, postgresUrl, uniqueName } from "../support/postgres.js";
import { builtPackageForFile, describeEachProxiedTarget } from "../support/shared-targets.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/backends-killed.test.ts";

const pkg = builtPackageForFile();

/** 200s the load must get before each kill, and after the last: the pool serves (again) and is busy. */
const SERVED = 20;
const KILL_PATTERN = /an idle connection failed|failed while checked out|a pooled connection failed|lost the connection/g;

describeEachProxiedTarget("backends killed", (current) => {

  it("mid-query and idle kills: no crash, 200/503 only, each mid-query kill cuts queries (503s), the next requests succeed, nothing left on the server", async () => {
    const target = current();
    const app = await startFaultApp({ build: pkg.build, driver: target.driver, url: target.url, app: target.app, max: 5, cooldownMs: 200, maxCooldownMs: 1000 });
    const kills: Array<{ at: number; sessions: number }> = [];
    const after: number[] = [];
    let report;
    let load;
    let served = 0;
    /** Resolves once the load has had `n` more 200s: paced on answers, not on the clock. */
    const untilServed = async (n: number) => {
      const goal = served + n;
      const deadline = Date.now() + 30_000;
      while (served < goal) {
        if (Date.now() > deadline) throw new Error(`the load got ${served} of ${goal} 200s within 30 s`);
        await sleep(20);
      }
    };
    const started = Date.now();
    try {
      // Two kills while 20 clients keep the 5 sessions busy with 100 ms queries: every session
      // of the app is mid-query. Each kill waits until the pool serves again after the previous one.
      const faults = (async () => {
        for (let k = 0; k < 2; k++) {
          await untilServed(SERVED);
          kills.push({ at: Date.now(), sessions: await target.killSessions() });
        }
        await untilServed(SERVED);
      })();
      load = await runLoad(`${app.url}/slow?s=0.1`, {
        connections: 20, seconds: 60, timeoutS: 10, stopWhen: faults.catch(() => {}),
        onResponse: (status) => void (status === 200 && served++),
      });
      await faults;
      // Idle now (no request in flight in the app): end every pooled session once more.
      await waitFor(() => app.report(), (r) => r.stats?.pool?.inUse === 0, 10_000);
      const logged = (app.stderr().match(KILL_PATTERN) ?? []).length;
      kills.push({ at: Date.now(), sessions: await target.killSessions() });
      // Then ask again once the app has seen the loss and settled (its probe, or the driver's reconnect).
      await waitFor(() => (app.stderr().match(KILL_PATTERN) ?? []).length, (n) => n > logged, 10_000);
      await waitFor(() => app.report(), (r) => r.stats?.state === "connected", 10_000);
      for (let i = 0; i < 20; i++) after.push((await fetch(`${app.url}/q`)).status);
      report = await app.report();
    } finally {
      await app.stop();
    }
    const left = await waitFor(() => target.serverCount(), (n) => n === 0, 5000);
    const statuses = countStatuses(after, load.statuses);
    // The 503s each mid-query kill caused: answered after it (and before the next one).
    const cut = kills.slice(0, 2).map((k, i) => load.timeline.filter((r) => r.status === 503 && r.at >= k.at && (i === 1 || r.at < kills[1]!.at)).length);
    const at = (k: { at: number }) => ((k.at - started) / 1000).toFixed(1);
    recordFigures(`3-killed-${target.driver}`, {
      scenario: "3. Backends killed, mid-query and idle",
      database: target.label,
      load: `autocannon, 20 connections of 100 ms queries (${load.seconds} s, until ${SERVED} answers after each kill); then 20 requests`,
      faults: `every session of the app killed at t=${at(kills[0]!)} s and t=${at(kills[1]!)} s (mid-query: ${kills[0]!.sessions} and ${kills[1]!.sessions} sessions), then idle (${kills[2]!.sessions})`,
      requests: load.requests + after.length,
      statuses,
      crashes: app.crashes(),
      unhandledRejections: report.unhandledRejections,
      maxLatencyMs: load.maxLatencyMs,
      recoveryMs: null,
      leaks: left,
      notes: `503s after each mid-query kill: ${cut[0]} and ${cut[1]}; the 20 requests after the idle kill: ${after.filter((s) => s === 200).length} × 200`,
      command: COMMAND,
    });
    expect(app.crashes(), app.stderr()).toBe(0);
    expect(report.unhandledRejections).toBe(0);
    expect(kills.map((k) => k.sessions).every((n) => n > 0)).toBe(true); // all three kills found sessions
    for (const status of Object.keys(load.statuses)) expect(["200", "503"]).toContain(status);
    // Both kills landed mid-query: each cut requests, which got 503 (not 500, not a hang).
    expect(cut[0]).toBeGreaterThan(0);
    expect(cut[1]).toBeGreaterThan(0);
    expect(load.statuses["200"] ?? 0).toBeGreaterThanOrEqual(3 * SERVED);
    expect(after).toEqual(Array(20).fill(200));
    expect(left).toBe(0);
  }, 120_000);
});

describe("control", () => {
  it("a bare pg.Pool without an 'error' listener crashes when its idle backend is terminated", async () => {
    const url = await postgresUrl();
    const app = uniqueName("ndc_rel_bare");
    const script = join(projectRoot, "test", "fixtures", "no-crash-child.mjs");
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [script, "bare", "idle", url, app], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (c) => (stdout += c));
      p.stderr.on("data", (c) => (stderr += c));
      const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
      p.on("error", reject);
      p.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    recordFigures("3-killed-pg-control", {
      scenario: "3. Backends killed (control: bare pg.Pool, no 'error' listener)",
      database: "PostgreSQL",
      load: "one query, then idle",
      faults: "pg_terminate_backend of the idle backend",
      requests: 1,
      statuses: {},
      crashes: r.code === 0 ? 0 : 1,
      unhandledRejections: 0,
      maxLatencyMs: null,
      recoveryMs: null,
      leaks: await pgConnectionCount(app),
      notes: `exit code ${r.code}: ${/Unhandled 'error' event/.test(r.stderr) ? "Unhandled 'error' event" : "no crash message"}`,
      command: COMMAND,
    });
    expect(r.stdout).toContain("TERMINATING");
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("SURVIVED");
    expect(r.stderr).toMatch(/Unhandled 'error' event/);
  }, 30_000);
});
