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

describeEachProxiedTarget("backends killed", (current) => {

  it("mid-query and idle kills: no crash, 200/503 only, the next requests succeed, nothing left on the server", async () => {
    const target = current();
    const app = await startFaultApp({ build: pkg.build, driver: target.driver, url: target.url, app: target.app, max: 5, cooldownMs: 200, maxCooldownMs: 1000 });
    const kills: number[] = [];
    let after: number[] = [];
    let report;
    let load;
    try {
      const faults = (async () => {
        for (const at of [1500, 1500]) {
          await sleep(at);
          kills.push(await target.killSessions());
        }
      })();
      load = await runLoad(`${app.url}/slow?s=0.1`, { connections: 20, seconds: 5, timeoutS: 10 });
      await faults;
      // Idle now: end every pooled session once more, then ask again.
      await sleep(300);
      kills.push(await target.killSessions());
      await sleep(300);
      for (let i = 0; i < 20; i++) after.push((await fetch(`${app.url}/q`)).status);
      report = await app.report();
    } finally {
      await app.stop();
    }
    const left = await waitFor(() => target.serverCount(), (n) => n === 0, 5000);
    const statuses = countStatuses(after, load.statuses);
    recordFigures(`3-killed-${target.driver}`, {
      scenario: "3. Backends killed, mid-query and idle",
      database: target.label,
      load: "autocannon, 20 connections, 5 s of 100 ms queries; then 20 requests",
      faults: `every session of the app killed at t=1.5 s and t=3 s (mid-query: ${kills[0]} and ${kills[1]} sessions), then idle (${kills[2]})`,
      requests: load.requests + after.length,
      statuses,
      crashes: app.crashes(),
      unhandledRejections: report.unhandledRejections,
      maxLatencyMs: load.maxLatencyMs,
      recoveryMs: null,
      leaks: left,
      notes: `the 20 requests after the idle kill: ${after.filter((s) => s === 200).length} × 200`,
      command: COMMAND,
    });
    expect(app.crashes(), app.stderr()).toBe(0);
    expect(report.unhandledRejections).toBe(0);
    expect(kills[0]).toBeGreaterThan(0);
    expect(kills[2]).toBeGreaterThan(0);
    for (const status of Object.keys(load.statuses)) expect(["200", "503"]).toContain(status);
    expect(load.statuses["200"] ?? 0).toBeGreaterThan(0);
    expect(after).toEqual(Array(20).fill(200));
    expect(left).toBe(0);
  }, 60_000);
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
