import type { Logger } from "../../src/logger.js";

/** A logger that keeps every line, for asserting on warnings and on redaction. */
export function captureLogger(): Logger & { lines: string[]; text(): string } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, ...rest: unknown[]) => {
    lines.push(`${level} ${message}${rest.length ? " " + rest.map(String).join(" ") : ""}`);
  };
  return { lines, debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error"), text: () => lines.join("\n") };
}
