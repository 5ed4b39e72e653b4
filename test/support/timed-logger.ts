import type { Logger } from "../../src/logger.js";

export interface TimedLine {
  at: number;
  level: "debug" | "info" | "warn" | "error";
  message: string;
}

/** A logger that keeps every line with the time it was written, to place the package's knowledge against requests. */
export function timedLogger(): Logger & { lines: TimedLine[]; text(): string; firstAfter(since: number, pattern: RegExp): TimedLine | undefined } {
  const lines: TimedLine[] = [];
  const keep = (level: TimedLine["level"]) => (message: string, ...rest: unknown[]) => {
    lines.push({ at: Date.now(), level, message: rest.length ? `${message} ${rest.map(String).join(" ")}` : message });
  };
  return {
    lines,
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
    text: () => lines.map((l) => `${l.level} ${l.message}`).join("\n"),
    firstAfter: (since, pattern) => lines.find((l) => l.at >= since && pattern.test(l.message)),
  };
}
