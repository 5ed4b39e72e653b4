import { spawn } from "node:child_process";
import { projectRoot } from "./build.js";

export interface ChildApp {
  url: string;
  output(): string;
  /** True when the process ended before stop(). */
  crashed(): boolean;
  stop(): Promise<void>;
}

/**
 * A fixture server (`node <script>`) in its own process, so that its crashes
 * and unhandled rejections are its own; resolves once it prints "READY <port>".
 */
export function startChildApp(script: string, env: Record<string, string>, startTimeoutMs = 20_000): Promise<ChildApp> {
  const child = spawn(process.execPath, [script], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  let output = "";
  let stopping = false;
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  child.stderr!.on("data", (c) => (output = (output + c).slice(-20_000)));
  return new Promise<ChildApp>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not start: ${output}`));
    }, startTimeoutMs);
    void gone.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited at start: ${output}`));
    });
    child.stdout!.on("data", (c) => {
      output = (output + c).slice(-20_000);
      const port = /READY (\d+)/.exec(output)?.[1];
      if (!port) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${port}`,
        output: () => output,
        crashed: () => exited && !stopping,
        async stop() {
          if (exited) return;
          stopping = true;
          child.kill("SIGTERM");
          const force = setTimeout(() => child.kill("SIGKILL"), 5000);
          await gone;
          clearTimeout(force);
        },
      });
    });
  });
}
