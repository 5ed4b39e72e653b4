/**
 * The compatibility run's apps: one folder per Next.js major, with that
 * major's `next`, `react`, next-connect and MongoDB driver installed from the
 * npm registry (once: the folders live under test/artifacts/compat-apps/,
 * git-ignored, so a repeated `npm test` reuses them; not under node_modules/,
 * where Next.js would take the app's own pages for a dependency and leave
 * them uncompiled), and
 * this checkout's package installed from its packed tarball on every run, as
 * a user's `npm install next-db-connect` would, peer ranges checked.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { projectRoot } from "./build.js";
import { freePort } from "./postgres.js";

const run = promisify(execFile);

export interface NextMajor {
  major: number;
  /** Exact versions, so a cached install is what the matrix says. */
  next: string;
  react: string;
  /** next-connect installed under its own name (what the app's routes were written against), and the other major under an alias. */
  nextConnect: { own: string; aliasName: string; alias: string };
  mongodb: string;
  /** App Router route handlers with a dynamic segment (13.4+). */
  appRouter: boolean;
  /** instrumentation.js, and whether it needs `experimental.instrumentationHook` (13.2 to 14). */
  instrumentation: "none" | "experimental" | "stable";
  /** package.json "type": "module" (Next 16 needs it). */
  esm: boolean;
}

export const NEXT_MAJORS: NextMajor[] = [
  {
    major: 12, next: "12.3.7", react: "17.0.2",
    nextConnect: { own: "0.12.2", aliasName: "next-connect-v1", alias: "1.0.0" },
    mongodb: "4.17.2", appRouter: false, instrumentation: "none", esm: false,
  },
  {
    major: 13, next: "13.5.11", react: "18.3.1",
    nextConnect: { own: "0.13.0", aliasName: "next-connect-v1", alias: "1.0.0" },
    mongodb: "5.9.2", appRouter: true, instrumentation: "experimental", esm: false,
  },
  {
    major: 14, next: "14.2.35", react: "18.3.1",
    nextConnect: { own: "1.0.0", aliasName: "next-connect-v0", alias: "0.13.0" },
    mongodb: "6.22.0", appRouter: true, instrumentation: "experimental", esm: false,
  },
  {
    major: 15, next: "15.5.29", react: "19.3.1",
    nextConnect: { own: "1.0.0", aliasName: "next-connect-v0", alias: "0.13.0" },
    mongodb: "7.9.1", appRouter: true, instrumentation: "stable", esm: false,
  },
  {
    major: 16, next: "16.4.6", react: "19.3.1",
    nextConnect: { own: "1.0.0", aliasName: "next-connect-v0", alias: "0.13.0" },
    mongodb: "7.9.1", appRouter: true, instrumentation: "stable", esm: true,
  },
];

const CACHE = join(projectRoot, "test", "artifacts", "compat-apps");
const FIXTURE = join(projectRoot, "test", "fixtures", "compat-app");
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

function dependencies(m: NextMajor): Record<string, string> {
  // The same pg as the repository's tests use.
  const pgVersion = (JSON.parse(readFileSync(join(projectRoot, "node_modules", "pg", "package.json"), "utf8")) as { version: string }).version;
  return {
    next: m.next,
    react: m.react,
    "react-dom": m.react,
    "next-connect": m.nextConnect.own,
    [m.nextConnect.aliasName]: `npm:next-connect@${m.nextConnect.alias}`,
    mongodb: m.mongodb,
    pg: pgVersion,
  };
}

export interface PreparedDeps {
  dir: string;
  /** How long installing the third-party packages took, or 0 when the cached folder was reused. */
  installMs: number;
}

/**
 * The app folder of a major with its third-party packages installed. The
 * install runs only when the folder's recorded dependencies differ from the
 * table above.
 */
export async function prepareDependencies(m: NextMajor): Promise<PreparedDeps> {
  const deps = dependencies(m);
  const key = createHash("sha256").update(JSON.stringify(deps)).digest("hex").slice(0, 12);
  const dir = join(CACHE, `next-${m.major}`);
  const marker = join(dir, ".installed");
  if (existsSync(marker) && (await readFile(marker, "utf8")) === key) return { dir, installMs: 0 };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify(appPackageJson(m, deps), null, 2));
  const started = Date.now();
  try {
    await run("npm", ["install", ...NPM_FLAGS], { cwd: dir, timeout: 600_000, maxBuffer: 20_000_000 });
  } catch (err) {
    throw new Error(`npm install for the Next.js ${m.major} app failed (the compatibility run installs from the npm registry): ${(err as { stderr?: string }).stderr ?? err}`);
  }
  await writeFile(marker, key);
  return { dir, installMs: Date.now() - started };
}

function appPackageJson(m: NextMajor, deps: Record<string, string>) {
  return { name: `ndc-compat-next-${m.major}`, private: true, ...(m.esm ? { type: "module" } : {}), dependencies: deps };
}

/** `npm pack` of this checkout (its dist/ must be built), into a fresh folder. */
export async function packPackage(): Promise<{ tarball: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "ndc-pack-"));
  const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], { cwd: projectRoot, timeout: 120_000 });
  const file = stdout.trim().split("\n").pop()!;
  return { tarball: join(dir, file), remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A tarball of the package with other peer ranges (nothing else in it), for
 * checking what npm's resolver says about them.
 */
export async function packWithPeerRanges(peers: Record<string, string>): Promise<{ tarball: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "ndc-peers-"));
  const pkg = JSON.parse(await readFile(join(projectRoot, "package.json"), "utf8")) as Record<string, unknown>;
  const manifest = {
    name: pkg.name, version: pkg.version, type: pkg.type,
    peerDependencies: { ...(pkg.peerDependencies as object), ...peers },
    peerDependenciesMeta: pkg.peerDependenciesMeta,
  };
  const src = join(dir, "src");
  await mkdir(src);
  await writeFile(join(src, "package.json"), JSON.stringify(manifest));
  const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], { cwd: src, timeout: 120_000 });
  return { tarball: join(dir, stdout.trim().split("\n").pop()!), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `npm install <tarball>` in an app folder: npm's own resolver, peer ranges included. */
export async function npmInstallTarball(dir: string, tarball: string, o: { dryRun?: boolean } = {}): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run("npm", ["install", "--no-save", ...(o.dryRun ? ["--dry-run"] : []), ...NPM_FLAGS, tarball], {
      cwd: dir,
      timeout: 300_000,
      maxBuffer: 20_000_000,
    });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message };
  }
}

/**
 * The fixture app's files for this major: routes, pages, lib/, and what
 * differs by major (`lib/routers.js`, `next.config.mjs`; no `app/` before
 * 13.4, no `instrumentation.js` before 13.2).
 */
export async function writeAppFiles(dir: string, m: NextMajor): Promise<void> {
  for (const part of ["app", "pages", "lib", "instrumentation.js", ".next"]) await rm(join(dir, part), { recursive: true, force: true });
  await cp(join(FIXTURE, "lib"), join(dir, "lib"), { recursive: true });
  await cp(join(FIXTURE, "pages"), join(dir, "pages"), { recursive: true });
  if (m.appRouter) await cp(join(FIXTURE, "app"), join(dir, "app"), { recursive: true });
  if (m.instrumentation !== "none") await cp(join(FIXTURE, "instrumentation.js"), join(dir, "instrumentation.js"));
  const v0 = m.nextConnect.own.startsWith("0.") ? "next-connect" : m.nextConnect.aliasName;
  const v1 = v0 === "next-connect" ? m.nextConnect.aliasName : "next-connect";
  await writeFile(
    join(dir, "lib", "routers.js"),
    `// next-connect v0 and v1 as this app installed them (one under its own name, the other under an npm alias).\n` +
      `export { default as nc } from "${v0}";\nexport { createRouter } from "${v1}";\n`,
  );
  const config: Record<string, unknown> = { poweredByHeader: false };
  if (m.instrumentation === "experimental") config.experimental = { instrumentationHook: true };
  // The app folder sits inside this repository, whose own lockfile would otherwise be taken for the workspace root.
  if (m.major >= 15) config.outputFileTracingRoot = dir;
  if (m.major >= 16) config.turbopack = { root: dir };
  await writeFile(join(dir, "next.config.mjs"), `export default ${JSON.stringify(config, null, 2)};\n`);
}

export interface ProcessResult {
  code: number | null;
  output: string;
  ms: number;
}

/** `next build` with the app's own Next.js. */
export async function nextBuild(dir: string): Promise<ProcessResult> {
  const started = Date.now();
  const child = spawnNext(dir, ["build"], {});
  const { code, output } = await child.done;
  return { code, output, ms: Date.now() - started };
}

export interface NextServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** `next start` on a free port; resolves once it answers HTTP. */
export async function nextStart(dir: string, env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const child = spawnNext(dir, ["start", "-p", String(port), "-H", "127.0.0.1"], env);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exited()) throw new Error(`next start exited: ${child.output()}`);
    try {
      await fetch(`${url}/api/runs`, { signal: AbortSignal.timeout(3000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await child.stop();
        throw new Error(`next start did not answer: ${child.output()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { url, output: child.output, stop: child.stop };
}

function spawnNext(dir: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [join(dir, "node_modules", "next", "dist", "bin", "next"), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NEXT_TELEMETRY_DISABLED: "1", ...env },
    detached: true, // a group of its own: next start forks a server process
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  const keep = (chunk: Buffer) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      resolve({ code, output });
    }),
  );
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  return {
    done,
    exited: () => exited,
    output: () => output,
    async stop() {
      if (!exited) {
        signalGroup("SIGTERM");
        const force = setTimeout(() => signalGroup("SIGKILL"), 10_000);
        await done;
        clearTimeout(force);
      }
      signalGroup("SIGKILL"); // a forked server may outlive the parent
    },
  };
}
