/**
 * Finds a headless Chromium that really starts on this machine, for the
 * example app's browser check.
 *
 * Order: `CHROMIUM_PATH` when set (someone chose that browser on purpose),
 * then the Chromium that the devDependency `@sparticuz/chromium` ships inside
 * its npm tarball (so `npm install` alone brings it, and a fresh clone, a
 * developer and CI run the same binary), then Debian's `/usr/bin/chromium`.
 * A candidate counts only once a real launch of it succeeds; when none does,
 * `missing` says what each one lacked, for the test to print as its skip reason.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress } from "node:zlib";
import { chromium, type Browser } from "playwright-core";
import { ROOT } from "./dist.js";

const NPM_PACKAGE = "@sparticuz/chromium";

/**
 * Headless, as root (hence no sandbox), on a machine whose only network is
 * loopback: without the background-networking flags Chromium keeps opening
 * connections to Google's hosts that the closed network refuses. Playwright
 * adds a fresh temporary --user-data-dir to every launch.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export type Candidate = { source: string; executablePath: () => Promise<string> | string };
export type FoundBrowser = { source: string; executablePath: string };
export type BrowserSearch =
  | { found: FoundBrowser; passedOver: string[] }
  | { found: undefined; missing: string };

export function launchBrowser(found: FoundBrowser): Promise<Browser> {
  return chromium.launch({ executablePath: found.executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** The usual candidates, in order, for this environment. */
export function defaultCandidates(env: NodeJS.ProcessEnv = process.env): Candidate[] {
  const candidates: Candidate[] = [];
  if (env.CHROMIUM_PATH) candidates.push({ source: "CHROMIUM_PATH", executablePath: () => env.CHROMIUM_PATH! });
  candidates.push({ source: `${NPM_PACKAGE} (npm devDependency)`, executablePath: unpackNpmChromium });
  candidates.push({ source: "Debian's chromium package", executablePath: () => "/usr/bin/chromium" });
  return candidates;
}

/** The first candidate that launches; otherwise why each one did not. */
export async function findBrowser(candidates: Candidate[] = defaultCandidates()): Promise<BrowserSearch> {
  const failures: string[] = [];
  for (const candidate of candidates) {
    const failure = await tryCandidate(candidate);
    if (typeof failure === "string") failures.push(`${candidate.source}: ${failure}`);
    else return { found: failure, passedOver: failures };
  }
  return {
    found: undefined,
    missing: `no Chromium starts here (${failures.join("; ")}); run npm install, or set CHROMIUM_PATH to a Chromium that starts on this machine`,
  };
}

async function tryCandidate(candidate: Candidate): Promise<FoundBrowser | string> {
  let executablePath: string;
  try {
    executablePath = await candidate.executablePath();
  } catch (err) {
    return (err as Error).message;
  }
  if (!existsSync(executablePath)) return `no file at ${executablePath}`;
  try {
    const browser = await launchBrowser({ source: candidate.source, executablePath });
    await browser.close();
    return { source: candidate.source, executablePath };
  } catch (err) {
    return `${executablePath} does not start: ${launchFailure((err as Error).message)}`;
  }
}

/**
 * Playwright's launch error is the browser's whole stderr plus a call log; the
 * line worth printing is the dynamic loader's when a shared library is absent
 * (the usual reason a Chromium binary cannot start on a bare machine).
 */
function launchFailure(message: string): string {
  const loader = message.split("\n").find((line) => line.includes("error while loading shared libraries"));
  // Playwright prefixes each stderr line with "[pid=N][err] ".
  return (loader?.replace(/^.*?\[err\]\s*/, "") ?? message.split("\n")[0] ?? message).trim();
}

/**
 * The npm package ships Chromium brotli-compressed (bin/chromium.br). Its own
 * `executablePath()` unpacks to a fixed `/tmp/chromium` and reuses whatever file
 * is there, whatever its version, even one another run is still writing; so it
 * is unpacked here instead, once per package version, into this checkout's
 * node_modules/.cache, and renamed into place only when complete.
 */
async function unpackNpmChromium(): Promise<string> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(NPM_PACKAGE);
  } catch {
    throw new Error(`${NPM_PACKAGE} is not installed`);
  }
  const { packageDir, version } = packageOf(entry);
  const compressed = join(packageDir, "bin", "chromium.br");
  if (!existsSync(compressed)) throw new Error(`${NPM_PACKAGE} ${version} has no bin/chromium.br`);

  const target = join(ROOT, "node_modules", ".cache", "next-db-connect", `chromium-${version}`, "chromium");
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.${randomUUID()}.partial`; // one per unpacking run, even in worker threads of one process
  try {
    await pipeline(createReadStream(compressed), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  return target;
}

/** The package folder above its entry file: the first package.json that names it (build/ folders hold their own). */
function packageOf(entry: string): { packageDir: string; version: string } {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version: string };
    if (name === NPM_PACKAGE) return { packageDir: dir, version };
  }
  throw new Error(`${NPM_PACKAGE}: no package.json above ${entry}`);
}
