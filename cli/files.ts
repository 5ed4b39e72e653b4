import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { Project, SourceFile } from "ts-morph";
import { Morph } from "./parser.js";

const EXTENSIONS = /\.(?:[cm]?[jt]s|[jt]sx)$/;
// Output, dependencies and tool folders: never the app's own source.
const SKIP = new Set(["node_modules", ".next", ".git", ".vercel", ".turbo", "dist", "build", "out", "coverage"]);

export class InputError extends Error {}

export function listSources(root: string): string[] {
  let info;
  try {
    info = statSync(root);
  } catch {
    throw new InputError(`no such folder: ${root}`);
  }
  if (!info.isDirectory()) throw new InputError(`not a folder: ${root}`);
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile() && EXTENSIONS.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        found.push(join(dir, entry.name));
      }
    }
  };
  walk(root);
  return found.sort();
}

export interface LoadedApp {
  root: string;
  project: Project;
  files: SourceFile[];
  rel(file: SourceFile): string;
}

/** Parses every source file; a file that does not parse stops the run before any write. */
export function loadApp(root: string): LoadedApp {
  const paths = listSources(root);
  const project = new Morph.Project({
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    // Only the app's own files are read: no lib.d.ts, no node_modules. Names are
    // resolved within a file (a local's declaration), never through types.
    compilerOptions: { allowJs: true, jsx: Morph.ts.JsxEmit.Preserve, noEmit: true, noLib: true, noResolve: true, types: [] },
  });
  const files = paths.map((p) => project.addSourceFileAtPath(p));
  const program = project.getProgram().compilerObject;
  const rel = (file: SourceFile) => relative(root, file.getFilePath()) || file.getBaseName();
  for (const file of files) {
    const [first] = program.getSyntacticDiagnostics(file.compilerNode);
    if (!first) continue;
    const { line, character } = file.compilerNode.getLineAndCharacterOfPosition(first.start ?? 0);
    const message = Morph.ts.flattenDiagnosticMessageText(first.messageText, " ");
    throw new InputError(`cannot parse ${rel(file)}:${line + 1}:${character + 1}: ${message}`);
  }
  return { root, project, files, rel };
}
