import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { projectRoot, type Build } from "./build.js";

export type Driver = "pg" | "mysql2" | "mongodb";
export type RouterKind = "v1" | "v0" | "v0-plain" | "cached";

export interface FaultAppOptions {
  build: Build;
  driver: Driver;
  url: string;
  app: string;
  router?: RouterKind;
  cooldownMs?: number;
  maxCooldownMs?: number;
  jitter?: number;
  max?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Install `closeOnShutdown()` in the app. */
  closeOnShutdown?: boolean;
  /** CONTROL: a hand-written drain instead (waits for no request in flight, refuses nothing). Overrides `closeOnShutdown`. */
  naiveDrain?: boolean;
  /** How long either drain waits for requests in flight, in ms (default 10000). */
  shutdownTimeoutMs?: number;
  /** Another fixture under test/fixtures/ that speaks the same protocol (READY, /__report). Default fault-app.mjs. */
  script?: string;
  /** More environment for the fixture. */
  env?: Record<string, string>;
}

export interface FaultApp {
  url: string;
  /** What the child counted itself: unhandled rejections, and the package's stats. */
  report(): Promise<{ unhandledRejections: number; pid: number; stats: any }>;
  /** Exit code or signal once the child is gone; null while it runs. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** 1 when the child died by itself (anything but our stop()), else 0. */
  crashes(): number;
  stderr(): string;
  stdout(): string;
  /** Sends `signal` without waiting for anything (SIGSTOP / SIGCONT: a frozen and thawed instance). */
  send(signal: NodeJS.Signals): void;
  /** Sends `signal` and waits for the process to end; not counted as a crash. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Starts test/fixtures/fault-app.mjs in its own process and waits until it listens. */
export function startFaultApp(o: FaultAppOptions): Promise<FaultApp> {
  const script = join(projectRoot, "test", "fixtures", o.script ?? "fault-app.mjs");
  const child: ChildProcess = spawn(process.execPath, [script], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      ...(process.env.NDC_DEBUG ? { NDC_DEBUG: "1" } : {}),
      ...(o.closeOnShutdown ? { NDC_SHUTDOWN: "package" } : {}),
      ...(o.naiveDrain ? { NDC_SHUTDOWN: "naive-drain" } : {}),
      ...(o.shutdownTimeoutMs !== undefined ? { NDC_SHUTDOWN_TIMEOUT_MS: String(o.shutdownTimeoutMs) } : {}),
      NDC_INDEX: o.build.esm("index"),
      NDC_ADAPTER: o.build.esm(o.driver),
      NDC_DRIVER: o.driver,
      NDC_URL: o.url,
      NDC_APP: o.app,
      NDC_ROUTER: o.router ?? "v1",
      NDC_COOLDOWN_MS: String(o.cooldownMs ?? 1000),
      NDC_MAX_COOLDOWN_MS: String(o.maxCooldownMs ?? 30000),
      NDC_JITTER: String(o.jitter ?? 0.2),
      NDC_MAX: String(o.max ?? 10),
      NDC_CONNECT_TIMEOUT_MS: String(o.connectTimeoutMs ?? 2000),
      NDC_QUERY_TIMEOUT_MS: String(o.queryTimeoutMs ?? 5000),
      ...o.env,
    } as unknown as NodeJS.ProcessEnv,
  });
  let stdout = "";
  let stderr = "";
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let stopping = false;
  child.stderr!.on("data", (c) => (stderr = (stderr + c).slice(-20_000)));
  const gone = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  return new Promise<FaultApp>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`fault app did not start: ${stderr}`));
    }, 20_000);
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`fault app exited at start: ${stderr}`));
    });
    child.stdout!.on("data", (c) => {
      stdout += c;
      const port = /READY (\d+)/.exec(stdout)?.[1];
      if (!port) return;
      clearTimeout(timer);
      const url = `http://127.0.0.1:${port}`;
      resolve({
        url,
        async report() {
          const res = await fetch(`${url}/__report`);
          return (await res.json()) as { unhandledRejections: number; pid: number; stats: any };
        },
        exit: () => exited,
        crashes: () => (exited !== null && !stopping ? 1 : 0),
        send: (sig) => void child.kill(sig),
        stderr: () => stderr,
        stdout: () => stdout,
        async signal(sig) {
          stopping = true;
          child.kill(sig);
          const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
          await gone;
          clearTimeout(timeout);
          return exited!;
        },
        async stop() {
          if (exited) return;
          stopping = true;
          child.kill("SIGTERM");
          const timeout = setTimeout(() => child.kill("SIGKILL"), 5000);
          await gone;
          clearTimeout(timeout);
        },
      });
    });
  });
}
