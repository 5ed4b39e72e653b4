import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./build.js";

/**
 * One row of the reliability matrix (docs/RELIABILITY.md). Scenarios write
 * what they measured here instead of only asserting, so the document's
 * figures come from the same run that proved them.
 */
export interface ScenarioFigures {
  /** e.g. "2. Restart under load" */
  scenario: string;
  /** "PostgreSQL" | "MariaDB" | "MongoDB (wire server)" */
  database: string;
  /** e.g. "autocannon, 50 connections, 20 s" */
  load: string;
  /** e.g. "pg restart at t=5 s" */
  faults: string;
  requests: number;
  /** status code (or "timeout"/"error") → count */
  statuses: Record<string, number>;
  crashes: number;
  unhandledRejections: number;
  maxLatencyMs: number | null;
  /** From the fault's end to the first success, in ms; null when not applicable. */
  recoveryMs: number | null;
  /** Connections left on the server that should not be, or leaked checkouts. */
  leaks: number | null;
  /** Whatever else the scenario measured (control results, warnings seen...). */
  notes?: string;
  /** The command that reproduces it. */
  command: string;
}

export const FIGURES_DIR = join(projectRoot, "test", "artifacts", "reliability");

/** Writes one row to test/artifacts/reliability/<id>.json. */
export function recordFigures(id: string, figures: ScenarioFigures): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `${id}.json`), JSON.stringify(figures, null, 2) + "\n");
}

export function readAllFigures(): Array<ScenarioFigures & { id: string }> {
  let files: string[] = [];
  try {
    files = readdirSync(FIGURES_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  return files.sort().map((f) => ({ id: f.replace(/\.json$/, ""), ...JSON.parse(readFileSync(join(FIGURES_DIR, f), "utf8")) }));
}

/**
 * Status counts for a row: counts already made (by the load generator, say),
 * merged, plus each of `statuses` counted once.
 */
export function countStatuses(statuses: Iterable<number | string>, ...alreadyCounted: Array<Record<string, number>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const part of alreadyCounted) for (const [k, v] of Object.entries(part)) counts[k] = (counts[k] ?? 0) + v;
  for (const s of statuses) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  return counts;
}
