import { cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildPackage, projectRoot, type Build } from "./build.js";

/** The MongoDB driver majors installed side by side as npm aliases (devDependencies). */
export const MONGODB_MAJORS = [
  { alias: "mongodb-v4", major: 4 },
  { alias: "mongodb-v5", major: 5 },
  { alias: "mongodb-v6", major: 6 },
  { alias: "mongodb", major: 7 },
] as const;

export type MongoDriverAlias = (typeof MONGODB_MAJORS)[number]["alias"];

type Index = typeof import("../../index.js");
type MongoAdapter = typeof import("../../src/adapters/mongodb.js");

export interface DriverSandbox {
  /** The built package's entry point, as an app with this driver major loads it. */
  index: Index;
  /** The built `next-db-connect/mongodb` entry, whose `import("mongodb")` finds the chosen major. */
  adapter: MongoAdapter;
  /** The driver itself (the same module instance the adapter loads), for hand-written controls. */
  driver: typeof import("mongodb");
  /** The installed driver's version, e.g. "4.17.2". */
  version: string;
  /** file: URL of a built entry in the sandbox ("index.js", "mongodb.js"), for a child process. */
  entryUrl(file: string): string;
  /** The sandbox's `next-db-connect/pg` entry (pg from the repository's node_modules). */
  pg(): Promise<typeof import("../../src/adapters/pg.js")>;
  remove(): Promise<void>;
}

/**
 * The published build of the package in a folder of its own whose
 * `node_modules/mongodb` is one driver major (a symlink to its npm alias), the
 * way an app that runs driver 4.x installs it: the adapter's lazy
 * `import("mongodb")` then loads that major, with its own bson, and nothing
 * in the package is told which one it got. `shared`: a build to copy instead
 * of building one. `loadDelayMs`: the driver takes that long to load, as the
 * first import does on a cold, busy process.
 */
export async function sandboxWithMongoDriver(alias: MongoDriverAlias, shared?: Build, o: { loadDelayMs?: number } = {}): Promise<DriverSandbox> {
  const build = shared ?? (await buildPackage());
  const dir = join(projectRoot, "test", "artifacts", `driver-${alias}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const pkgDir = join(dir, "node_modules", "next-db-connect");
  try {
    await mkdir(pkgDir, { recursive: true });
    await cp(build.dir, join(pkgDir, "dist"), { recursive: true });
    await writeFile(join(pkgDir, "package.json"), JSON.stringify({ name: "next-db-connect", type: "module" }));
    const fromRoot = createRequire(join(projectRoot, "package.json"));
    const driverDir = dirname(fromRoot.resolve(`${alias}/package.json`));
    if (o.loadDelayMs) await writeSlowDriver(join(dir, "node_modules", "mongodb"), fromRoot.resolve(alias), driverDir, o.loadDelayMs);
    else await symlink(driverDir, join(dir, "node_modules", "mongodb"), "dir");
  } finally {
    if (!shared) await build.remove();
  }
  const load = (file: string) => import(/* @vite-ignore */ pathToFileURL(join(pkgDir, "dist", file)).href);
  const driverUrl = pathToFileURL(createRequire(join(pkgDir, "dist", "mongodb.js")).resolve("mongodb")).href;
  const driver = (await import(/* @vite-ignore */ driverUrl)) as typeof import("mongodb") & { default?: typeof import("mongodb") };
  const version = (createRequire(join(pkgDir, "dist", "mongodb.js"))("mongodb/package.json") as { version: string }).version;
  return {
    index: (await load("index.js")) as Index,
    adapter: (await load("mongodb.js")) as MongoAdapter,
    driver: driver.MongoClient ? driver : (driver.default as typeof import("mongodb")),
    version,
    entryUrl: (file) => pathToFileURL(join(pkgDir, "dist", file)).href,
    pg: () => load("pg.js"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A `mongodb` package that is the real driver, available `delayMs` after its import starts. */
async function writeSlowDriver(dir: string, main: string, driverDir: string, delayMs: number): Promise<void> {
  const { version } = JSON.parse(await readFile(join(driverDir, "package.json"), "utf8")) as { version: string };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "mongodb", version, type: "module", exports: { ".": "./index.js", "./package.json": "./package.json" } }));
  await writeFile(
    join(dir, "index.js"),
    `import driver from ${JSON.stringify(pathToFileURL(main).href)};\n` +
      `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));\n` +
      `export default driver;\nexport const { MongoClient } = driver;\n`,
  );
}
