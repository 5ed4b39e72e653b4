import type { Redactor } from "./redact.js";

/** Any object with these methods works: `console`, pino, winston, Next's logger. */
export interface Logger {
  debug?(message: string, ...rest: unknown[]): void;
  info?(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

type LogLevel = "debug" | "info" | "warn" | "error";

/** What the package logs through: every line prefixed and redacted. */
export type SafeLogger = Record<LogLevel, (message: string) => void>;

const PREFIX = "[next-db-connect]";

const consoleLogger: Logger = {
  // Connects and closes are worth one line each; debug stays quiet by default.
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export function createSafeLogger(name: string, logger: Logger | false | undefined, redact: Redactor): SafeLogger {
  const target = logger === false ? undefined : (logger ?? consoleLogger);
  const emit = (level: LogLevel) => (message: string) => {
    const write = target?.[level];
    if (typeof write !== "function") return;
    try {
      write.call(target, redact(`${PREFIX} ${name}: ${message}`));
    } catch {
      // A broken logger must never break a request.
    }
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
