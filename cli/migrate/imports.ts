import type { SourceFile } from "ts-morph";
import { requireSpecifier } from "../ast.js";
import { Morph } from "../parser.js";
import type { Edits } from "./edits.js";
import { styled, type Style } from "./style.js";

export const ADAPTER_EXPORT = { mongodb: "mongodb", pg: "pg", mysql2: "mysql2" } as const;

/** The import (or require) lines for createDatabase and the adapter, placed after the file's own. */
export function addPackageImports(file: SourceFile, edits: Edits, style: Style, adapter: keyof typeof ADAPTER_EXPORT, local: string): void {
  const named = local === ADAPTER_EXPORT[adapter] ? local : style.syntax === "esm" ? `${ADAPTER_EXPORT[adapter]} as ${local}` : `${ADAPTER_EXPORT[adapter]}: ${local}`;
  const lines =
    style.syntax === "esm"
      ? [`import { createDatabase } from "next-db-connect";`, `import { ${named} } from "next-db-connect/${adapter}";`]
      : [`const { createDatabase } = require("next-db-connect");`, `const { ${named} } = require("next-db-connect/${adapter}");`];
  for (let i = 0; i < lines.length; i++) lines[i] = styled(lines[i]!, style);
  const anchor = lastImportStatement(file);
  const text = file.getFullText();
  if (anchor) {
    const end = anchor.getEnd();
    edits.insert(end, `\n${lines.join("\n")}`);
    return;
  }
  // No import: after directives ("use strict", "server-only" imports are imports) and a leading comment block.
  const first = file.getStatements()[0];
  const at = first ? first.getStart() : text.length;
  edits.insert(at, `${lines.join("\n")}\n\n`);
}

function lastImportStatement(file: SourceFile) {
  let last;
  for (const s of file.getStatements()) {
    if (Morph.Node.isImportDeclaration(s)) last = s;
    else if (Morph.Node.isVariableStatement(s) && s.getDeclarations().every((d) => requireSpecifier(d.getInitializer()) !== null || requireSpecifier(accessBase(d.getInitializer())) !== null)) last = s;
    else if (Morph.Node.isExpressionStatement(s) && /^["']use strict["']$/.test(s.getExpression().getText())) last = s;
    else break;
  }
  return last;
}

function accessBase(node: ReturnType<import("ts-morph").VariableDeclaration["getInitializer"]>) {
  return node && Morph.Node.isPropertyAccessExpression(node) ? node.getExpression() : undefined;
}

/**
 * Drops driver import bindings that nothing uses any more. `used` holds every
 * identifier the rewritten file still mentions outside its imports.
 */
export function pruneImports(file: SourceFile, edits: Edits, modules: Set<string>, used: Set<string>, removed: (name: string) => void): void {
  for (const imp of file.getImportDeclarations()) {
    if (!modules.has(imp.getModuleSpecifierValue())) continue;
    const def = imp.getDefaultImport();
    const ns = imp.getNamespaceImport();
    const named = imp.getNamedImports();
    const keepDef = def && used.has(def.getText());
    const keepNs = ns && used.has(ns.getText());
    const keepNamed = named.filter((n) => used.has((n.getAliasNode() ?? n.getNameNode()).getText()));
    if (keepDef === !!def && keepNs === !!ns && keepNamed.length === named.length) continue;
    for (const n of [def?.getText(), ns?.getText(), ...named.map((n) => (n.getAliasNode() ?? n.getNameNode()).getText())]) if (n && !used.has(n)) removed(n);
    if (!keepDef && !keepNs && keepNamed.length === 0) {
      edits.removeStatement(imp, false);
      continue;
    }
    const parts: string[] = [];
    if (keepDef) parts.push(def!.getText());
    if (keepNs) parts.push(`* as ${ns!.getText()}`);
    if (keepNamed.length) parts.push(`{ ${keepNamed.map((n) => n.getText()).join(", ")} }`);
    const typeOnly = imp.isTypeOnly() ? "type " : "";
    const spec = imp.getModuleSpecifier().getText();
    edits.replace(imp.getStart(), imp.getEnd(), `import ${typeOnly}${parts.join(", ")} from ${spec}${imp.getText().trimEnd().endsWith(";") ? ";" : ""}`);
  }
  for (const stmt of file.getStatements()) {
    if (!Morph.Node.isVariableStatement(stmt)) continue;
    const decls = stmt.getDeclarations();
    if (decls.length !== 1) continue;
    const d = decls[0]!;
    const spec = requireSpecifier(d.getInitializer()) ?? requireSpecifier(accessBase(d.getInitializer()));
    if (!spec || !modules.has(spec)) continue;
    const name = d.getNameNode();
    if (Morph.Node.isIdentifier(name)) {
      if (!used.has(name.getText())) {
        removed(name.getText());
        edits.removeStatement(stmt, false);
      }
    } else if (Morph.Node.isObjectBindingPattern(name)) {
      const keep = name.getElements().filter((el) => used.has(el.getName()));
      for (const el of name.getElements()) if (!used.has(el.getName())) removed(el.getName());
      if (keep.length === 0) edits.removeStatement(stmt, false);
      else if (keep.length < name.getElements().length) edits.replace(name.getStart(), name.getEnd(), `{ ${keep.map((el) => el.getText()).join(", ")} }`);
    }
  }
}
