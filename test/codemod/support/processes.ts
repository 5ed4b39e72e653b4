import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER = join(fileURLToPath(new URL(".", import.meta.url)), "cjs-server.cjs");

export interface AppServer {
  base: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The CommonJS fixture app under a plain Node.js server, in its own process. */
export async function startCjsApp(appDir: string, env: Record<string, string>): Promise<AppServer> {
  const child = spawn(process.execPath, [SERVER, appDir], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stderr!.on("data", (c) => (output += c));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (c) => {
      buf += c;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) resolve(Number(m[1]));
      else output += c;
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function get(base: string, path: string, timeoutMs = 10_000): Promise<Reply> {
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, headers: res.headers };
  } catch (err) {
    return { status: 0, body: String((err as Error).name), headers: new Headers() };
  }
}

/** n concurrent GETs. */
export function burst(base: string, path: string, n: number): Promise<Reply[]> {
  return Promise.all(Array.from({ length: n }, () => get(base, path)));
}

/** Polls until `fn` returns a reply with the status, or the deadline passes; returns the last reply. */
export async function until(fn: () => Promise<Reply>, status: number, ms: number): Promise<Reply> {
  const deadline = Date.now() + ms;
  let last = await fn();
  while (last.status !== status && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
