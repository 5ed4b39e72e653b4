// Prints the one line CI reads, "N passed, N failed", from vitest's JSON report.
// A failed typecheck counts as one more failure; a missing report as one too.
import { readFileSync } from "node:fs";

const [file, typecheckStatus = "0"] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  skipped = report.numPendingTests + (report.numTodoTests ?? 0);
  if (report.success === false && failed === 0) failed = 1; // unhandled errors fail the run too
} catch (err) {
  console.error(`no test report at ${file}: ${err.message}`);
  failed = 1;
}
if (typecheckStatus !== "0") failed += 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed === 0 ? 0 : 1);
