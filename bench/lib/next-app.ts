// Builds the bench app once (when its sources or dist/ changed) and starts
// fresh `next start` processes on free ports.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../../test/support/postgres.js";
import { APP_DIR, NEXT_BIN, PRELOAD, REPO_ROOT } from "./paths.js";
import { spawnGroup, stopGroup } from "./processes.js";
import { sleep } from "./stats.js";

const run = promisify(execFile);
const BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 90_000;

function newestMtime(dir: string, skip: Set<string>): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

export async function buildApp(log: (line: string) => void): Promise<void> {
  const linkModule = pathToFileURL(join(REPO_ROOT, "scripts", "link-local-package.mjs")).href;
  const { linkLocalPackage } = (await import(linkModule)) as { linkLocalPackage(dir: string): string };
  linkLocalPackage(APP_DIR);
  const buildId = join(APP_DIR, ".next", "BUILD_ID");
  const sources = Math.max(
    newestMtime(APP_DIR, new Set(["node_modules", ".next", "next-env.d.ts", "tsconfig.json", "preload"])),
    newestMtime(join(REPO_ROOT, "dist"), new Set()),
  );
  if (existsSync(buildId) && statSync(buildId).mtimeMs > sources) {
    log("bench app: build is up to date");
    return;
  }
  log("bench app: next build ...");
  const started = performance.now();
  try {
    await run(process.execPath, [NEXT_BIN, "build"], {
      cwd: APP_DIR,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
      timeout: BUILD_TIMEOUT_MS,
      killSignal: "SIGKILL",
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`next build of bench/app failed: ${e.message}\n${(e.stdout ?? "").slice(-3000)}\n${(e.stderr ?? "").slice(-3000)}`);
  }
  log(`bench app: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export interface NextServer {
  url: string;
  pid: number;
  /** Tail of the server's output, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A fresh `next start` with the driver-counting preload; resolves once it answers. */
export async function startNext(env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const preload = `--import=${pathToFileURL(PRELOAD).href}`;
  const child = spawnGroup(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: APP_DIR,
    env: {
      ...process.env,
      ...env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_OPTIONS: [process.env.NODE_OPTIONS ?? "", preload].join(" ").trim(),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const server: NextServer = { url, pid: child.pid ?? -1, output: () => output, stop: () => stopGroup(child) };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with code ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/api/bench-stats`, { signal: AbortSignal.timeout(5000) });
      if (res.ok) {
        const stats = (await res.json()) as { connects: unknown };
        if (stats.connects === null) {
          await server.stop();
          throw new Error("the bench preload did not run in next start (NODE_OPTIONS --import ignored?)");
        }
        return server;
      }
    } catch (err) {
      if ((err as Error).message.includes("preload")) throw err;
    }
    await sleep(200);
  }
  await server.stop();
  throw new Error(`next start did not answer within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
}

export interface AppStats {
  pid: number;
  rss: number;
  heapUsed: number;
  /** driver → server identity → connects. */
  connects: Record<string, Record<string, number>>;
}

export async function appStats(server: NextServer): Promise<AppStats> {
  const res = await fetch(`${server.url}/api/bench-stats`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as AppStats;
}
