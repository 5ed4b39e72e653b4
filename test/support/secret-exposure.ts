/**
 * Everything a secret could leak through, as text: every way an application
 * prints an error, and every line written to the console or emitted as a
 * process warning while a test runs. The config fuzzer searches these for its
 * canary password.
 */
import { inspect } from "node:util";

/** How an app might show an error: message, stack, String(), JSON, util.inspect (with its cause chain). */
export function errorTexts(err: unknown): string[] {
  const texts: string[] = [];
  const attempt = (f: () => unknown) => {
    try {
      const value = f();
      if (value !== undefined) texts.push(String(value));
    } catch {
      // A value that cannot be printed cannot leak either.
    }
  };
  attempt(() => (err as Error)?.message);
  attempt(() => (err as Error)?.stack);
  attempt(() => String(err));
  attempt(() => JSON.stringify(err));
  attempt(() => inspect(err, { depth: 8, showHidden: true }));
  attempt(() => JSON.stringify((err as { cause?: unknown })?.cause));
  return texts;
}

/** Any value shown as JSON and as util.inspect would show it (stats, health reports). */
export function valueTexts(value: unknown): string[] {
  return [JSON.stringify(value) ?? "", inspect(value, { depth: 8 })];
}

/**
 * Captures console output and process warnings (drivers print there, not to
 * our logger: mysql2's "Ignoring invalid configuration option", pg's SSL mode
 * warning) and keeps them out of the test report. `restore()` undoes it.
 */
export function captureConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => void lines.push(`${m} ${args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" ")}`);
  }
  const onWarning = (warning: Error) => void lines.push(`process-warning ${warning.name}: ${warning.message}`);
  process.on("warning", onWarning);
  return {
    lines,
    restore() {
      for (const [m, f] of saved) console[m] = f;
      process.off("warning", onWarning);
    },
  };
}

/** How many of `texts` contain `needle`, and the first one that does (trimmed around the hit). */
export function findIn(texts: readonly string[], needle: string): { count: number; first: string | null } {
  let count = 0;
  let first: string | null = null;
  for (const text of texts) {
    const at = text.indexOf(needle);
    if (at === -1) continue;
    count++;
    first ??= text.slice(Math.max(0, at - 120), at + needle.length + 60);
  }
  return { count, first };
}
