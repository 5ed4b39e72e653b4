/**
 * The browser finder's skip reason: the e2e browser check is skipped with it on
 * a machine where no Chromium starts, so it must name what is missing. The
 * stand-in fails the way a Chromium binary does on a machine without one of
 * its libraries: the dynamic loader's message on stderr, exit status 127.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findBrowser } from "./support/browser.js";

const dir = mkdtempSync(join(tmpdir(), "find-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withoutLibrary(library: string): string {
  const path = join(dir, "chromium");
  writeFileSync(
    path,
    `#!/bin/sh\necho "${path}: error while loading shared libraries: ${library}: cannot open shared object file: No such file or directory" >&2\nexit 127\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("findBrowser", () => {
  it("when no candidate starts, the reason names each one and what it lacks", async () => {
    const standIn = withoutLibrary("libnss3.so");
    const search = await findBrowser([
      { source: "CHROMIUM_PATH", executablePath: () => join(dir, "absent") },
      { source: "npm", executablePath: () => { throw new Error("@sparticuz/chromium is not installed"); } },
      { source: "stand-in", executablePath: () => standIn },
    ]);
    expect(search.found).toBeUndefined();
    const missing = "missing" in search ? search.missing : "";
    expect(missing).toContain(`CHROMIUM_PATH: no file at ${join(dir, "absent")}`);
    expect(missing).toContain("npm: @sparticuz/chromium is not installed");
    expect(missing).toContain(`stand-in: ${standIn} does not start: ${standIn}: error while loading shared libraries: libnss3.so`);
  });
});
