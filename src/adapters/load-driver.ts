import { DatabaseConfigError } from "../errors.js";

/**
 * Drivers are optional peer dependencies, loaded on first connect: importing
 * an adapter never loads its driver, so defining a database is free at build
 * time and an Edge bundle gets our clear error instead of a bundling failure.
 */
export async function loadDriver<T>(database: string, pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new DatabaseConfigError(database, "driver", `the "${pkg}" package is not installed. Run: npm install ${pkg.split("/")[0]}`);
    }
    throw err;
  }
}

/** A CommonJS driver's export, whichever way the module system wrapped it. */
export function pick<T>(mod: unknown, key: string): T {
  const m = mod as Record<string, unknown> & { default?: Record<string, unknown> };
  return (m[key] ?? m.default?.[key]) as T;
}
