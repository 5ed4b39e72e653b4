import type { SourceFile } from "ts-morph";
import { checkFile } from "../check/index.js";
import type { LoadedApp } from "../files.js";
import { Morph, SK } from "../parser.js";
import { Report } from "../report.js";
import { ModuleResolver } from "./consumers.js";
import { migrateDatabaseModule, type AppContext } from "./database-module.js";
import { rewriteOnError } from "./on-error.js";

export interface MigrationResult {
  report: Report;
  /** New text of every file the codemod changed. */
  changed: Map<SourceFile, string>;
}

export class GeneratedCodeError extends Error {}

/**
 * Database modules first (each rewritten on its own, reading how the rest of
 * the app uses its exports), then the next-connect v0 onError lines of the
 * files that use a migrated middleware, then --check's rules over the result:
 * what they still find is what is left for a human.
 */
export function migrate(app: LoadedApp): MigrationResult {
  // createDatabase() keys its pool by name ("default" unless given): two
  // databases left unnamed in one process would take each other's pool for a
  // changed configuration. So when the app ends up with more than one, each
  // migrated module is named after its path.
  const first = migrateOnce(app, false);
  const existing = app.files.filter((f) => !first.changed.has(f)).reduce((n, f) => n + f.getDescendantsOfKind(SK.CallExpression).filter((c) => c.getExpression().getText() === "createDatabase").length, 0);
  if (first.modules + existing < 2) return first;
  return migrateOnce(app, true);
}

function migrateOnce(app: LoadedApp, named: boolean): MigrationResult & { modules: number } {
  const report = new Report();
  const byPath = new Map(app.files.map((f) => [f.getFilePath() as string, f]));
  const resolver = new ModuleResolver(app.root, byPath);
  const ctx: AppContext = { files: app.files, resolver, rel: app.rel, report, named };
  const changed = new Map<SourceFile, string>();
  const handles = new Map<SourceFile, string>();
  let modules = 0;
  for (const file of app.files) {
    const done = migrateDatabaseModule(file, ctx);
    if (!done) continue;
    modules++;
    changed.set(file, done.text);
    if (done.handleExport) handles.set(file, done.handleExport);
  }
  for (const file of app.files) {
    if (changed.has(file)) continue;
    const edits = rewriteOnError(file, handles, resolver, report, app.rel(file));
    if (edits) changed.set(file, edits.apply());
  }
  for (const finding of recheck(app, changed)) {
    report.left(finding.file, finding.line, finding.rule, `${finding.message} (the codemod does not rewrite this)`);
  }
  return { report, changed, modules };
}

/** The rules of --check over the rewritten app; also proves every rewritten file still parses. */
function recheck(app: LoadedApp, changed: Map<SourceFile, string>) {
  const project = new Morph.Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true, noEmit: true, noLib: true, noResolve: true, types: [] } });
  const copies = app.files.map((file) => ({ file, copy: project.createSourceFile(file.getFilePath(), changed.get(file) ?? file.getFullText(), { overwrite: true }) }));
  const program = project.getProgram().compilerObject;
  const findings = [];
  for (const { file, copy } of copies) {
    if (changed.has(file)) {
      const [bad] = program.getSyntacticDiagnostics(copy.compilerNode);
      if (bad) throw new GeneratedCodeError(`the rewrite of ${app.rel(file)} does not parse (${Morph.ts.flattenDiagnosticMessageText(bad.messageText, " ")}); nothing was written. Please report this with the file's pattern`);
    }
    findings.push(...checkFile(copy, app.rel(file)));
  }
  return findings;
}
