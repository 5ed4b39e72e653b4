// Prints the markdown report of a saved run again (ratios and targets are
// recomputed from the measurements): tsx bench/report/print.ts [results.json]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR } from "../lib/paths.js";
import { derive, renderReport, type BenchResults } from "./render.js";

const file = process.argv[2] ?? join(RESULTS_DIR, "latest.json");
const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
console.log(renderReport({ ...results, ...derive(results) }));
