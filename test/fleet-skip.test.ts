/**
 * The README's test command must pass on a machine without PgBouncer: the
 * scenarios that need it skip, and say why. Checked twice: the lookup itself
 * (no binary on PATH or in the sbin folders), and a real vitest run of both
 * PgBouncer test files with the binary taken away (NDC_PGBOUNCER=""), which
 * must print the reason and skip every test instead of failing.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/build.js";
import { findPgbouncer } from "./support/pgbouncer.js";

const run = promisify(execFile);
const FILES = ["test/reliability/fleet.test.ts", "test/pooler-transaction-mode.test.ts"];

describe("without PgBouncer", () => {
  it("the lookup says what is missing and how to get it", async () => {
    const empty = await mkdtemp(join(tmpdir(), "ndc-no-pgbouncer-"));
    try {
      expect(findPgbouncer({ PATH: empty }, [])).toEqual({
        found: false,
        reason: expect.stringMatching(/no pgbouncer binary on PATH.*apt-get install pgbouncer/),
      });
      expect(findPgbouncer({ NDC_PGBOUNCER: join(empty, "pgbouncer") })).toEqual({
        found: false,
        reason: expect.stringContaining(`"${join(empty, "pgbouncer")}", which is not an executable PgBouncer`),
      });
      expect(findPgbouncer({ NDC_PGBOUNCER: process.execPath })).toEqual({ found: true, path: process.execPath });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("the scenarios that need it are skipped with the reason printed, and the run passes", async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(projectRoot, "node_modules", "vitest", "vitest.mjs"), "run", ...FILES, "--typecheck.enabled=false", "--reporter=verbose"],
      { cwd: projectRoot, env: { ...process.env, NDC_PGBOUNCER: "", FORCE_COLOR: "0", NO_COLOR: "1" }, timeout: 120_000 },
    );
    const output = stdout + stderr;
    expect(output).toContain("[skip] fleet scenario (test/reliability/fleet.test.ts): NDC_PGBOUNCER is set to nothing");
    expect(output).toContain("[skip] transaction-mode pooler tests: NDC_PGBOUNCER is set to nothing");
    expect(output).toMatch(/Test Files\s+2 skipped/);
    expect(output).not.toMatch(/\d+ passed|\d+ failed/);
  }, 150_000);
});
