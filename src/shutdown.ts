import type { Logger } from "./logger.js";
import { closeAll, processState } from "./registry.js";

/**
 * Graceful shutdown: on SIGTERM/SIGINT, refuse new requests at once (503 with
 * `Connection: close`), let the requests in flight finish, close every pool,
 * then let the process end.
 *
 * Why it is needed with `next start`: Next.js 16 answers SIGTERM by closing
 * its HTTP server, then `process.exit()`; the pools are never closed, so MySQL
 * counts aborted connections and a custom server keeps running with open
 * pools. And the usual hand-written hook
 * (`process.on("SIGTERM", async () => { await pool.end(); process.exit(0) })`)
 * ends the pools under the requests still running. Refusing new requests from
 * the signal on is what lets a drain end under steady traffic: keep-alive
 * clients would otherwise keep the in-flight count above zero until the timeout.
 */
export interface ShutdownOptions {
  /** Signals to handle. Default ["SIGTERM", "SIGINT"]. */
  signals?: NodeJS.Signals[];
  /** Longest wait for in-flight requests before closing anyway, in ms. Default 10000. */
  timeoutMs?: number;
  /** Where to log; `false` for silence. Default `console`. */
  logger?: Logger | false;
}

/**
 * Marks a request as in flight; returns the function that ends it (call it
 * once). Until `closeOnShutdown()` is installed this costs nothing and returns null.
 */
export function beginRequest(): (() => void) | null {
  const s = processState().shutdown;
  if (s.run === null) return null;
  s.inFlight++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    s.inFlight--;
    if (s.inFlight === 0) for (const resolve of s.drained.splice(0)) resolve();
  };
}

/** A shutdown signal arrived: requests that start now are refused. */
export function isDraining(): boolean {
  return processState().shutdown.draining;
}

/**
 * Installs the shutdown handling once per process (every later call is a
 * no-op and returns the same handle). Call it from `instrumentation.ts`.
 *
 * When the signal arrives: requests that arrive get 503 with `Connection:
 * close` and `Retry-After` at once; requests in flight through `database`
 * (middleware, `api()`, `route()`) are awaited up to `timeoutMs`; then
 * `closeAll()` runs, which also fails at once any request still waiting for a
 * connection. If another handler for the signal exists (`next start` installs
 * its own), that handler ends the process; otherwise the signal is raised
 * again with ours removed, so the process ends as it would have without us.
 */
export function closeOnShutdown(options: ShutdownOptions = {}): { shutdown(signal?: NodeJS.Signals): Promise<void> } {
  const s = processState().shutdown;
  const handle = { shutdown: (signal: NodeJS.Signals = "SIGTERM") => s.run!(signal) };
  if (s.run !== null) return handle;
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger === false ? undefined : (options.logger ?? console);
  const say = (level: "info" | "warn", m: string) => {
    try {
      log?.[level]?.(`[next-db-connect] ${m}`);
    } catch {
      // a broken logger must not stop the shutdown
    }
  };

  const run = (signal: NodeJS.Signals): Promise<void> =>
    (s.done ??= (async () => {
      s.draining = true;
      if (s.inFlight > 0) {
        say("info", `${signal}: waiting for ${s.inFlight} request(s) in flight before closing the database pools; new requests get 503`);
        const drained = new Promise<void>((resolve) => s.drained.push(resolve));
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
        const late = await Promise.race([drained.then(() => false), timedOut]);
        clearTimeout(timer);
        if (late) say("warn", `${signal}: ${s.inFlight} request(s) still running after ${timeoutMs} ms; closing the pools anyway`);
      }
      s.closed = true;
      await closeAll();
      say("info", `${signal}: database pools closed`);
    })());
  s.run = run;

  const onSignal = (signal: NodeJS.Signals) => {
    void run(signal).then(() => {
      for (const sig of signals) process.off(sig, onSignal);
      // Nobody else ends the process on this signal: end it the default way.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  for (const sig of signals) process.on(sig, onSignal);
  return handle;
}
