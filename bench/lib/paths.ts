import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(BENCH_DIR, "..");
export const APP_DIR = join(BENCH_DIR, "app");
export const RESULTS_DIR = join(BENCH_DIR, "results");
export const NEXT_BIN = join(REPO_ROOT, "node_modules", "next", "dist", "bin", "next");
export const PRELOAD = join(APP_DIR, "preload", "count-connects.mjs");
