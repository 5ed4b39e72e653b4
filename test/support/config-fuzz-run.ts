/**
 * Runs one fuzzed configuration the way an app would meet it: define the
 * database, connect, ask for health() and stats(), close. Returns the outcome
 * and every text the package exposed on the way (errors printed every way,
 * log lines, stats and health), for the canary search.
 */
import { inspect } from "node:util";
import { createDatabase, DatabaseConfigError, DatabaseUnavailableError, defineAdapter } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import type { Expectation, FuzzCase } from "./config-arbitraries.js";
import { captureLogger } from "./logger.js";
import { errorTexts, valueTexts } from "./secret-exposure.js";

export type Outcome =
  | { kind: "connected" }
  | { kind: "DatabaseConfigError"; setting: string }
  | { kind: "DatabaseUnavailableError" }
  /** Anything else thrown or rejected: a defect. */
  | { kind: "untyped"; what: string }
  /** No answer within the case's bound: a defect. */
  | { kind: "hang"; step: string };

export interface CaseResult {
  outcome: Outcome;
  /** The error's message, for failure reports. */
  detail: string | null;
  ms: number;
  /** Everything shown to the app: error texts, log lines, stats, health. */
  exposed: string[];
}

class Hang extends Error {
  constructor(readonly step: string) {
    super(`no answer from ${step}`);
  }
}

function bounded<T>(work: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Hang(step)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function buildAdapter(c: FuzzCase): unknown {
  switch (c.driver) {
    case "pg":
      return pg(c.config as never);
    case "mysql2":
      return mysql2(c.config as never);
    case "mongodb":
      return mongodb(c.config as never);
    case "custom": {
      const config = c.config as { definition?: unknown; notAnAdapter?: unknown };
      return "definition" in config ? defineAdapter(config.definition as never) : config.notAnAdapter;
    }
  }
}

function classify(err: unknown): Outcome {
  if (err instanceof Hang) return { kind: "hang", step: err.step };
  if (err instanceof DatabaseConfigError) return { kind: "DatabaseConfigError", setting: err.setting };
  if (err instanceof DatabaseUnavailableError) return { kind: "DatabaseUnavailableError" };
  let what: string;
  try {
    what = inspect(err, { depth: 2 }).slice(0, 300);
  } catch {
    what = typeof err;
  }
  return { kind: "untyped", what };
}

/**
 * `boundMs` bounds each step (connect, health, close); every option that
 * could make a step longer is capped well below it by the arbitraries.
 */
export async function runFuzzCase(c: FuzzCase, name: string, boundMs: number): Promise<CaseResult> {
  const started = performance.now();
  const logger = captureLogger();
  const exposed: string[] = [];
  let outcome: Outcome;
  let detail: string | null = null;
  let database: any;
  try {
    // Defining must never throw (contract 5: it runs at import time).
    const adapter = buildAdapter(c);
    const options = c.rawOptions !== undefined ? c.rawOptions : { name, logger, ...c.options };
    database = createDatabase(adapter as never, options as never);
  } catch (err) {
    const thrown = classify(err);
    const what = `defining threw ${thrown.kind === "untyped" ? thrown.what : thrown.kind}`;
    return { outcome: { kind: "untyped", what }, detail: null, ms: performance.now() - started, exposed: errorTexts(err) };
  }
  try {
    await bounded(database.connect(), boundMs, "connect()");
    outcome = { kind: "connected" };
  } catch (err) {
    outcome = classify(err);
    detail = errorTexts(err)[0] ?? null;
    exposed.push(...errorTexts(err));
  }
  for (const [step, run] of [
    ["health()", async () => exposed.push(...valueTexts(await database.health({ timeoutMs: 300 })))],
    ["stats()", async () => exposed.push(...valueTexts(database.stats()))],
    ["close()", () => database.close()],
  ] as const) {
    try {
      await bounded(Promise.resolve().then(run), boundMs, step);
    } catch (err) {
      // health() and stats() never throw; close() must not either.
      if (outcome.kind !== "hang" && outcome.kind !== "untyped") outcome = classify(err);
      if (outcome.kind === "untyped") outcome = { kind: "untyped", what: `${step}: ${outcome.what}` };
      exposed.push(...errorTexts(err));
    }
  }
  exposed.push(...logger.lines);
  return { outcome, detail, ms: performance.now() - started, exposed };
}

/** Does the outcome keep the package's promise for this input? */
export function meetsExpectation(expect: Expectation, outcome: Outcome): boolean {
  switch (expect.outcome) {
    case "config":
      return outcome.kind === "DatabaseConfigError" && (expect.setting === undefined || outcome.setting === expect.setting);
    case "unavailable":
      return outcome.kind === "DatabaseUnavailableError";
    case "config-or-unavailable":
      return outcome.kind === "DatabaseUnavailableError" || outcome.kind === "DatabaseConfigError";
    case "connected":
      return outcome.kind === "connected";
    case "connected-or-unavailable":
      return outcome.kind === "connected" || outcome.kind === "DatabaseUnavailableError";
    case "typed":
      return outcome.kind === "connected" || outcome.kind === "DatabaseUnavailableError" || outcome.kind === "DatabaseConfigError";
  }
}

/** A short, printable description of a case for failure messages (symbols, bigints, functions included). */
export function describeCase(c: FuzzCase): string {
  return inspect({ driver: c.driver, family: c.family, config: c.config, options: c.rawOptions ?? c.options, expect: c.expect }, { depth: 4, breakLength: Infinity }).slice(0, 600);
}
