import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "./build.js";
import { freePort } from "./postgres.js";

const run = promisify(execFile);
const NEXT_BIN = join(projectRoot, "node_modules", "next", "dist", "bin", "next");

/**
 * A Next.js app fixture from test/fixtures/, copied into its own folder under
 * test/artifacts/ (so builds by different tests or engineers never share a
 * `.next`), linked to this checkout's build of the package, and built with
 * the real `next build`.
 */
export async function buildNextFixture(
  fixture: string,
  options: {
    /** Environment for `next build` (route modules are evaluated while it collects page data). */
    env?: Record<string, string>;
    /** Runs in the copy before the build (code generation). */
    prepare?: (dir: string) => Promise<void>;
  } = {},
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = join(projectRoot, "test", "artifacts", `${fixture}-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await cp(join(projectRoot, "test", "fixtures", fixture), dir, { recursive: true });
  const { linkLocalPackage } = (await import(join(projectRoot, "scripts", "link-local-package.mjs"))) as { linkLocalPackage(dir: string): string };
  linkLocalPackage(dir);
  await options.prepare?.(dir);
  await run(process.execPath, [NEXT_BIN, "build"], {
    cwd: dir,
    env: { ...process.env, ...options.env, NEXT_TELEMETRY_DISABLED: "1", NDC_REPO_ROOT: `${projectRoot}/` } as NodeJS.ProcessEnv,
    timeout: 240_000,
    maxBuffer: 10_000_000,
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface NextServer {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/** `next start` on a free port; resolves once it answers HTTP. */
export async function nextStart(dir: string, env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NDC_REPO_ROOT: `${projectRoot}/`, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited: ${output}`);
    try {
      await fetch(`${url}/api/nothing-here`, { signal: AbortSignal.timeout(2000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`next start did not answer: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, child, output: () => output, exited, kill: () => void child.kill("SIGKILL") };
}
