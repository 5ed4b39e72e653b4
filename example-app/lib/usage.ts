import { evaluation } from "./database";

/**
 * Which entry points have used the pool, and from which copy of
 * lib/database.ts (each bundle has its own copy: `evaluation` tells them
 * apart). Kept on globalThis, like the pool's own registry, so every bundle
 * writes to the same table and the status page can show it.
 */
export interface EntryUse {
  entry: string;
  /** Which evaluation of lib/database.ts (which bundle) this entry used. */
  moduleEvaluation: number;
  uses: number;
  lastUsedAt: string;
}

const KEY = Symbol.for("next-db-connect-example.entry-uses");
const store = globalThis as { [KEY]?: Map<string, EntryUse> };
const table = (store[KEY] ??= new Map<string, EntryUse>());

export function recordUse(entry: string): void {
  const key = `${entry}#${evaluation}`;
  const row = table.get(key) ?? { entry, moduleEvaluation: evaluation, uses: 0, lastUsedAt: "" };
  row.uses += 1;
  row.lastUsedAt = new Date().toISOString();
  table.set(key, row);
}

export function entryUses(): EntryUse[] {
  return [...table.values()].sort((a, b) => a.entry.localeCompare(b.entry) || a.moduleEvaluation - b.moduleEvaluation);
}

/** How many times lib/database.ts has been evaluated in this process, all bundles together. */
export function databaseModuleEvaluations(): number {
  return (globalThis as { __exampleDatabaseModuleEvaluations?: number }).__exampleDatabaseModuleEvaluations ?? 0;
}
