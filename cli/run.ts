import { writeFileSync } from "node:fs";
import type { Options } from "./args.js";
import { checkFile } from "./check/index.js";
import { unifiedDiff } from "./diff.js";
import { loadApp } from "./files.js";
import { migrate } from "./migrate/index.js";
import { formatCheck, formatMigrate } from "./report.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Runs with the parser loaded. Returns the exit code. */
export function run(opts: Options, root: string, io: Io): number {
  const app = loadApp(root);
  if (opts.check) {
    const findings = app.files.flatMap((f) => checkFile(f, app.rel(f)));
    io.out(opts.json ? JSON.stringify({ findings, scanned: app.files.length }, null, 2) : formatCheck(findings, app.files.length));
    return findings.length > 0 ? 1 : 0;
  }
  const { report, changed } = migrate(app);
  if (opts.dry) {
    for (const [file, text] of changed) io.out(unifiedDiff(app.rel(file), file.getFullText(), text) + "\n");
  } else {
    for (const [file, text] of changed) writeFileSync(file.getFilePath(), text);
  }
  io.out(opts.json ? JSON.stringify({ files: report.files(), written: !opts.dry }, null, 2) : formatMigrate(report, opts.dry ? "dry" : "write"));
  return 0;
}
