import type { Node, SourceFile, Statement } from "ts-morph";
import { enclosingFunction, isRequestHandler, type FunctionNode } from "../ast.js";
import { checkFile } from "../check/index.js";
import { perRequestClient } from "../check/per-request-client.js";
import { Morph, SK } from "../parser.js";
import type { Report } from "../report.js";
import { adapterCall } from "./adapter-call.js";
import { classify, type Classified, type Helper } from "./classify.js";
import { connectHelperReplacement, promiseReplacement, isClientPromise } from "./connect-helper.js";
import type { ModuleResolver } from "./consumers.js";
import { Edits, statementRange } from "./edits.js";
import { addPackageImports, pruneImports } from "./imports.js";
import { middlewareDeclaration } from "./middleware.js";
import { referencedNames } from "./names.js";
import { onConnectOf } from "./on-connect.js";
import { poolReplacement } from "./module-pool.js";
import { describeSetup, prismaLeft } from "./singleton.js";
import { styled, styleOf } from "./style.js";

export interface AppContext {
  files: SourceFile[];
  resolver: ModuleResolver;
  rel(file: SourceFile): string;
  report: Report;
  /** Give the database a name (its module's path): the app has more than one. */
  named: boolean;
}

export interface MigratedModule {
  file: SourceFile;
  text: string;
  /** Under which export the middleware (now the database handle) is found, if the module had one. */
  handleExport: string | null;
}

const DRIVER_MODULES = new Set(["mongodb", "pg", "mysql2", "mysql2/promise"]);

/** A replacement for one legacy name: the text, and the statement it replaces (for its export keyword). */
export interface Replacement {
  name: string;
  text: string;
}

/**
 * Rewrites one database module (the file that creates the client or pool)
 * around createDatabase(). Returns null when the file is not one, or when it
 * must be left for a human (the reason is in the report).
 */
export function migrateDatabaseModule(file: SourceFile, ctx: AppContext): MigratedModule | null {
  const rel = ctx.rel(file);
  const c = classify(file);
  if (c.creations.length === 0) return null;
  const left = (line: number, what: string, why: string) => {
    ctx.report.left(rel, line, what, why);
    return null;
  };

  // A client made per request is not a module to rewrite: --check (and the re-check below) report it.
  if (perRequestClient(file).length > 0) return null;
  if (c.creations.some((x) => x.driver === "prisma")) return prismaLeft(c, ctx, rel);
  if (new Set(c.creations.map((x) => x.driver)).size > 1) return left(c.creations[0]!.node.getStartLineNumber(), "clients of more than one driver in one module", "give each database its own createDatabase() with its own name");
  const stray = c.creations.find((x) => ![...c.legacy].some((s) => s.containsRange(x.node.getPos(), x.node.getEnd())));
  if (stray) {
    const fn = enclosingFunction(stray.node);
    if (fn && isInHandler(fn)) return null; // a client per request: --check reports it, there is no module to rewrite
    return left(stray.node.getStartLineNumber(), `${stray.api}(...)`, "the client is created in code the codemod does not recognise as connection setup");
  }
  const made = c.creations[0]!;
  if (made.api === "createConnection") return left(made.node.getStartLineNumber(), "mysql2 createConnection()", "a single connection, not a pool: switch it to createPool() settings, then run the codemod again");

  for (const h of c.helpers) ctx.report.found(rel, describeHelper(h), h.statement.getStartLineNumber());
  // What --check flags inside the code being replaced goes away with it.
  for (const f of checkFile(file, rel)) {
    if ([...c.legacy].some((s) => s.getStartLineNumber() <= f.line && f.line <= s.getEndLineNumber())) ctx.report.found(rel, f.rule, f.line);
  }
  const firstLegacy = [...c.legacy][0]!;
  ctx.report.found(rel, describeSetup(c), made.node.getStartLineNumber());

  const call = adapterCall(c);
  if ("fail" in call) return left(call.line, "database module", call.fail);

  const keptFunctions = new Set<string>();
  for (const s of c.kept) {
    if (Morph.Node.isFunctionDeclaration(s) && s.getName()) keptFunctions.add(s.getName()!);
    if (Morph.Node.isVariableStatement(s)) for (const d of s.getDeclarations()) if (d.getInitializer() && /=>|function/.test(d.getInitializer()!.getText().slice(0, 60))) keptFunctions.add(d.getName());
  }
  // `import pg from "pg"` still needed for a type (`pg.Pool`) keeps its name; the adapter takes another.
  const keptDeclared = new Set(c.kept.flatMap((s) => declaredNames(s)));
  const adapterLocal = c.keptRefs.has(call.adapter) || keptDeclared.has(call.adapter) ? `${call.adapter}Adapter` : call.adapter;
  call.text = adapterLocal + call.text.slice(call.adapter.length);
  const onConnect = onConnectOf(c, keptFunctions);
  if ("fail" in onConnect) return left(onConnect.line, "database module", onConnect.fail);

  const style = styleOf(file);
  const middleware = c.helpers.find((h) => h.role === "middleware");
  const name = middleware?.name ?? freeName(file, c);

  // Which legacy names other code still needs, and what stands in for each.
  const exportedLegacy = new Set<string>();
  for (const s of c.legacy) if (/^export\b/.test(s.getText())) for (const n of declaredNames(s)) exportedLegacy.add(n);
  const candidates = new Set<string>([...c.state, ...c.helpers.map((h) => h.name).filter((n): n is string => !!n)]);
  const needed = [...candidates].filter((n) => n !== name && (c.keptRefs.has(n) || exportedLegacy.has(n)));
  const replacements: Replacement[] = [];
  for (const n of needed) {
    const h = c.helpers.find((x) => x.name === n);
    const exp = exportedLegacy.has(n) ? "export " : "";
    if (h) {
      const r = connectHelperReplacement(h, name, call.adapter, exp);
      if ("fail" in r) return left(h.statement.getStartLineNumber(), `${n}()`, r.fail);
      replacements.push({ name: n, text: r.text });
      ctx.report.changed(rel, r.described);
      continue;
    }
    if (call.adapter === "mongodb" && isClientPromise(file, n)) {
      replacements.push({ name: n, text: promiseReplacement(n, name, exp) });
      ctx.report.changed(rel, `${n} is now ${name}.clientPromise(): it settles with the connected MongoClient once the database is reachable and never stays rejected after an outage`);
      continue;
    }
    if (call.adapter !== "mongodb") {
      const r = poolReplacement(file, c, n, name, call.adapter, exp, style.ts, ctx);
      if ("fail" in r) return left(r.line, n, r.fail);
      replacements.push({ name: n, text: r.text });
      ctx.report.changed(rel, r.described);
      continue;
    }
    const use = firstUse(c, n);
    return left(use, n, `${n} holds the MongoClient itself and other code uses it synchronously; createDatabase() opens the client lazily. Use ${name}.clientPromise() (a promise) or ${name}.connect() where ${n} is read`);
  }

  // The new definition, then the stand-ins, where the first legacy statement stood
  // (or later, after the declarations it reads, such as `const uri = ...`).
  const optionLines = [...(ctx.named ? [`name: ${JSON.stringify(rel.replace(/\.[cm]?[jt]sx?$/, ""))},`] : []), ...(onConnect.text ? [`onConnect: ${onConnect.text},`] : [])];
  const options = optionLines.length === 0 ? "" : !onConnect.text ? `, { ${optionLines[0]!.slice(0, -1)} }` : `, {\n  ${optionLines.join("\n  ")}\n}`;
  const definition = middlewareDeclaration(middleware, name, `createDatabase(${call.text}${options})`);
  const block = styled([definition, ...replacements.map((r) => r.text)].join("\n\n"), style);
  const edits = new Edits(file);
  const insertAt = insertionPoint(c, firstLegacy, `${call.text} ${onConnect.text ?? ""}`);
  if (insertAt === null) return left(firstLegacy.getStartLineNumber(), "database module", "a statement above the client setup already uses it at import time; the definition cannot be placed before it");
  edits.insert(insertAt, `${block}\n`);
  for (const s of c.legacy) {
    const h = c.helpers.find((x) => x.statement === s);
    if (h && !h.name && h.role === "middleware") {
      // `export default async (req, res, next) => {...}` / `module.exports = function (...) {...}`
      const exportLine = h.exportAs === "module.exports" ? `module.exports = ${name};` : `export default ${name};`;
      edits.replace(s.getStart(), s.getEnd(), styled(exportLine, style));
    } else if (h && !h.name) {
      return left(s.getStartLineNumber(), "an anonymous exported connect helper", "name it, then run the codemod again");
    } else edits.removeStatement(s);
  }
  for (const p of call.removeProps) removeProperty(edits, p);

  addPackageImports(file, edits, style, call.adapter, adapterLocal);
  const used = new Set([...c.keptRefs, ...identifiersOf(block)]);
  pruneImports(file, edits, DRIVER_MODULES, used, () => {});

  ctx.report.changed(rel, `client setup replaced by createDatabase(${call.adapter}(...))${onConnect.text ? " with onConnect" : ""}: one pool per process, shared by every Next.js bundle, hot-reload safe`);
  if (ctx.named) ctx.report.changed(rel, `named after this file: the app has more than one database, and each needs its own name to keep its own pool`);
  for (const d of onConnect.described) ctx.report.changed(rel, d);
  for (const d of call.changed) ctx.report.changed(rel, d);
  for (const l of call.left) ctx.report.left(rel, l.line, l.what, l.why);
  if (middleware) ctx.report.changed(rel, `the middleware ${middleware.name ? `${middleware.name}() ` : ""}is now the createDatabase() handle: every handler.use(${name}) keeps working and sets req.db and req.dbClient as before`);

  return { file, text: edits.apply(), handleExport: middleware ? exportNameOf(middleware, name, c) : null };
}

function isInHandler(fn: FunctionNode): boolean {
  for (let f: FunctionNode | undefined = fn; f; f = enclosingFunction(f)) if (isRequestHandler(f)) return true;
  return false;
}

function describeHelper(h: Helper): string {
  const n = h.name ? `${h.name}()` : "an anonymous export";
  switch (h.role) {
    case "middleware":
      return `hand-written next-connect database middleware ${n} setting req.db / req.dbClient`;
    case "connection":
      return `connect helper ${n} returning { client, db }`;
    case "db":
      return `connect helper ${n} returning the Db`;
    default:
      return `connect helper ${n} returning the client`;
  }
}

function declaredNames(s: Statement): string[] {
  if (Morph.Node.isVariableStatement(s)) return s.getDeclarations().map((d) => d.getName());
  if (Morph.Node.isFunctionDeclaration(s) && s.getName()) return [s.getName()!];
  return [];
}

/** "database" unless the file already means something else by it. */
function freeName(file: SourceFile, c: Classified): string {
  const taken = new Set<string>();
  for (const s of file.getStatements()) for (const n of referencedNames(s)) if (!c.state.has(n)) taken.add(n);
  return ["database", "nextDatabase", "dbHandle"].find((n) => !taken.has(n)) ?? "nextDbConnectDatabase";
}

function firstUse(c: Classified, name: string): number {
  for (const s of c.kept) if (referencedNames(s).has(name)) return s.getStartLineNumber();
  return [...c.legacy][0]!.getStartLineNumber();
}

/** Right where the first legacy statement began, unless the definition reads a constant declared later. */
function insertionPoint(c: Classified, firstLegacy: Statement, generated: string): number | null {
  let at = statementRange(firstLegacy)[0];
  const reads = identifiersOf(generated);
  for (const s of c.kept) {
    if (!Morph.Node.isVariableStatement(s)) continue;
    if (s.getDeclarations().some((d) => reads.has(d.getName())) && s.getStart() > at) at = statementRange(s)[1];
  }
  // Kept top-level code between the first legacy statement and that point must not read what the block defines.
  const defined = new Set<string>([...c.state, ...c.helpers.map((h) => h.name ?? "")]);
  for (const s of c.kept) {
    if (s.getStart() >= at || Morph.Node.isFunctionDeclaration(s) || s.getEnd() <= statementRange(firstLegacy)[0]) continue;
    if ([...referencedNames(s)].some((n) => defined.has(n))) return null;
  }
  return at;
}

/** Names generated code mentions (string contents, such as the database's name, are not names). */
function identifiersOf(code: string): Set<string> {
  return new Set(code.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g, '""').match(/[A-Za-z_$][\w$]*/g) ?? []);
}

function removeProperty(edits: Edits, p: Node): void {
  const next = p.getNextSibling();
  if (next && next.getKind() === SK.CommaToken) {
    const after = next.getNextSibling();
    edits.replace(p.getStart(), after ? after.getStart() : next.getEnd(), "");
    return;
  }
  const prev = p.getPreviousSibling();
  if (prev && prev.getKind() === SK.CommaToken) edits.replace(prev.getStart(), p.getEnd(), "");
  else edits.replace(p.getStart(), p.getEnd(), "");
}

function exportNameOf(h: Helper, name: string, c: Classified): string | null {
  if (h.exportAs === "default" || h.exportAs === "module.exports") return "default";
  if (h.exportAs === "named") return name;
  // Exported by a separate statement: `export default database`, `module.exports = database`, `export { database }`.
  for (const s of c.kept) {
    const t = s.getText();
    if (new RegExp(`^export\\s+default\\s+${name}\\b`).test(t) || new RegExp(`^module\\.exports\\s*=\\s*${name}\\b`).test(t)) return "default";
    if (new RegExp(`^export\\s*\\{[^}]*\\b${name}\\b`).test(t)) return name;
  }
  return null;
}
