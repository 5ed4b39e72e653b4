// Prints the one line CI reads, "N passed, N failed", from vitest's JSON report.
// Further arguments "name=exitStatus" are whole-run checks (typecheck, bench
// smoke run): each counts as one passed or one failed. A missing report
// counts as a failure.
import { readFileSync } from "node:fs";

const [file, ...checks] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  skipped = report.numPendingTests + (report.numTodoTests ?? 0);
  if (report.success === false && failed === 0) failed = 1; // unhandled errors fail the run too
  // Name what failed last, beside the count, so a log's tail says which tests to look at.
  for (const suite of report.testResults ?? []) {
    if (suite.status === "failed" && !(suite.assertionResults ?? []).some((t) => t.status === "failed")) {
      console.error(`failed to run: ${suite.name}${suite.message ? ` (${suite.message.split("\n")[0]})` : ""}`);
    }
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== "failed") continue;
      const why = (test.failureMessages?.[0] ?? "").split("\n")[0].slice(0, 300);
      console.error(`failed: ${suite.name.replace(process.cwd() + "/", "")} > ${test.fullName}${why ? `\n  ${why}` : ""}`);
    }
  }
} catch (err) {
  console.error(`no test report at ${file}: ${err.message}`);
  failed = 1;
}
for (const check of checks) {
  const at = check.lastIndexOf("=");
  const name = check.slice(0, at);
  const status = check.slice(at + 1);
  if (status === "0") passed += 1;
  else {
    failed += 1;
    console.error(`${name} failed (exit status ${status})`);
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed === 0 ? 0 : 1);
