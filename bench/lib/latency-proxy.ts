// Starts bench/lib/latency-proxy-child.ts: a delay of `ms` on every chunk,
// each way, between the clients and a database server.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BENCH_DIR } from "./paths.js";

export interface LatencyProxy {
  port: number;
  stop(): Promise<void>;
}

export function startLatencyProxy(host: string, port: number, ms: number): Promise<LatencyProxy> {
  const child = spawn(process.execPath, ["--import", "tsx", join(BENCH_DIR, "lib", "latency-proxy-child.ts"), host, String(port), String(ms)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.once("exit", () => child.kill("SIGKILL"));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`latency proxy did not start: ${output}`)), 30_000);
    child.stderr!.on("data", (c) => (output += c));
    child.once("exit", (code) => reject(new Error(`latency proxy exited (${code}): ${output}`)));
    child.stdout!.on("data", (c) => {
      output += c;
      const found = /READY (\d+)/.exec(output)?.[1];
      if (!found) return;
      clearTimeout(timer);
      resolve({
        port: Number(found),
        async stop() {
          child.kill("SIGTERM");
          const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}
