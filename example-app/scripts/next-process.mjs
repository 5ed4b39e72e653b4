// Runs the `next` CLI of the repository's root node_modules with the app as
// its working directory, in a process group of its own, so that stopping it
// also stops the `next-server` child it forks (nothing outlives a test).
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = join(repoRoot, "node_modules", "next", "dist", "bin", "next");

/** Environment variables that choose the example's database driver. */
export const DRIVER_VARIABLES = ["DATABASE_URL", "MYSQL_URL", "MONGODB_URI", "MONGODB_DB"];

/**
 * Starts `next <args>` in `cwd`. Output is kept (for error messages) and
 * optionally echoed. `exited` resolves with the exit code.
 */
export function startNext(args, { cwd = appDir, env = process.env, echo = false } = {}) {
  const child = spawn(process.execPath, [nextBin, ...args], {
    cwd,
    env: { NEXT_TELEMETRY_DISABLED: "1", ...env },
    detached: true, // its own process group: see stop()
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (stream, target) =>
    stream.on("data", (chunk) => {
      output += chunk;
      if (output.length > 200_000) output = output.slice(-100_000);
      if (echo) target.write(chunk);
    });
  keep(child.stdout, process.stdout);
  keep(child.stderr, process.stderr);
  const exited = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit(code ?? signal)));
  let stopped = false;
  return {
    child,
    exited,
    output: () => output,
    /** Signals the whole group, then SIGKILLs it if it has not exited in time. */
    async stop(timeoutMs = 10_000) {
      if (stopped) return exited;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup(child.pid, "SIGKILL"); // a next-server child may still be running
        return exited;
      }
      killGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      killGroup(child.pid, "SIGKILL"); // anything left in the group
      return result;
    },
  };
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs `next <args>` to completion; rejects with its output when it fails. */
export async function runNext(args, options) {
  const proc = startNext(args, options);
  const code = await proc.exited;
  await proc.stop();
  if (code !== 0) throw new Error(`next ${args.join(" ")} exited with ${code}:\n${proc.output().slice(-8000)}`);
  return proc.output();
}

/** Resolves once `url` answers any HTTP status; rejects if the process exits first. */
export async function waitForHttp(url, proc, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`next exited before ${url} answered:\n${proc.output().slice(-8000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc.output().slice(-8000)}`);
}

/** A copy of `env` without the variables that choose a database. */
export function withoutDatabaseEnv(env = process.env) {
  const copy = { ...env };
  for (const name of DRIVER_VARIABLES) delete copy[name];
  return copy;
}
