import type { Node, SourceFile } from "ts-morph";
import { requireSpecifier } from "../ast.js";
import { Morph, SK } from "../parser.js";
import type { Report } from "../report.js";
import type { ModuleResolver } from "./consumers.js";
import { Edits } from "./edits.js";
import { styleOf, styled } from "./style.js";

/**
 * next-connect v0 hands a handler's error to its onError option, not back to
 * the middleware, so a connection lost mid-request reaches the app's own
 * handler. Where the app has an onError, it becomes database.onError.with(it):
 * such errors get the package's 503, every other error still reaches the
 * app's handler unchanged.
 * Where the app has none, nothing is added: database.onError would change how
 * the app's other errors are answered (a plain 500 instead of v0's default).
 */
export function rewriteOnError(file: SourceFile, handles: Map<SourceFile, string>, resolver: ModuleResolver, report: Report, rel: string): Edits | null {
  const handle = handleBinding(file, handles, resolver);
  if (!handle) return null;
  const factories = nextConnectV0Names(file);
  if (factories.size === 0) return null;
  const edits = new Edits(file);
  const style = styleOf(file);
  // database.onError.with(h): the package's 503 for its own failures, h(err, req, res, next) for every other error.
  const wrap = (inner: string) => `${handle}.onError.with(${inner})`;
  for (const call of file.getDescendantsOfKind(SK.CallExpression)) {
    if (!factories.has(call.getExpression().getText())) continue;
    const line = call.getStartLineNumber();
    const [arg] = call.getArguments();
    const obj = arg && Morph.Node.isObjectLiteralExpression(arg) ? arg : undefined;
    const prop = obj?.getProperty("onError");
    if (!arg || (obj && !prop)) {
      report.left(rel, line, "next-connect v0 without onError", `a connection lost while a handler runs reaches v0's default error handler as a 500; nextConnect({ onError: ${handle}.onError }) answers 503 instead, but would also turn the app's other errors into a plain 500 without message, so the codemod did not add it`);
      continue;
    }
    if (!obj || !prop) {
      report.left(rel, line, "next-connect v0 options from a shared object", `wrap its onError as onError: ${wrap("<the app's onError>")} to answer 503 when the connection is lost mid-request`);
      continue;
    }
    if (prop.getText().includes(`${handle}.onError.with(`) || prop.getText().includes(`${handle}.onError(`)) continue; // already wrapped
    report.found(rel, "next-connect v0 onError", prop.getStartLineNumber());
    if (Morph.Node.isPropertyAssignment(prop)) {
      const init = prop.getInitializerOrThrow();
      edits.replace(init.getStart(), init.getEnd(), styled(wrap(init.getText()), style));
    } else if (Morph.Node.isShorthandPropertyAssignment(prop)) {
      edits.replace(prop.getStart(), prop.getEnd(), styled(`onError: ${wrap(prop.getName())}`, style));
    } else if (Morph.Node.isMethodDeclaration(prop) && !style.ts) {
      const fn = `${prop.isAsync() ? "async " : ""}function ${prop.getName()}(${prop.getParameters().map((p: Node) => p.getText()).join(", ")}) ${prop.getBodyOrThrow().getText()}`;
      edits.replace(prop.getStart(), prop.getEnd(), `onError: ${wrap(fn)}`);
    } else {
      report.left(rel, prop.getStartLineNumber(), "onError method", `wrap it as onError: ${wrap("<the app's onError>")} to answer 503 when the connection is lost mid-request`);
      continue;
    }
    report.changed(rel, `onError keeps the app's handler for every other error; a connection lost mid-request now gets ${handle}.onError's 503 with Retry-After`);
  }
  return edits.size > 0 ? edits : null;
}

/** The local name of an imported createDatabase() handle that came from a migrated middleware module. */
function handleBinding(file: SourceFile, handles: Map<SourceFile, string>, resolver: ModuleResolver): string | null {
  for (const imp of file.getImportDeclarations()) {
    const target = resolver.resolve(file, imp.getModuleSpecifierValue());
    const exportName = target && handles.get(target);
    if (!exportName) continue;
    if (exportName === "default" && imp.getDefaultImport()) return imp.getDefaultImport()!.getText();
    const named = imp.getNamedImports().find((n) => n.getName() === exportName);
    if (named) return (named.getAliasNode() ?? named.getNameNode()).getText();
  }
  for (const d of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    const spec = requireSpecifier(d.getInitializer());
    const target = spec ? resolver.resolve(file, spec) : undefined;
    const exportName = target && handles.get(target);
    if (!exportName) continue;
    const name = d.getNameNode();
    if (exportName === "default" && Morph.Node.isIdentifier(name)) return name.getText();
    if (Morph.Node.isObjectBindingPattern(name)) {
      const el = name.getElements().find((e) => (e.getPropertyNameNode() ?? e.getNameNode()).getText() === exportName);
      if (el) return el.getName();
    }
  }
  return null;
}

/** Local names of next-connect 0.x's default export (v1 exports createRouter instead). */
function nextConnectV0Names(file: SourceFile): Set<string> {
  const names = new Set<string>();
  const isV0 = (spec: string) => spec === "next-connect" || spec === "next-connect-v0";
  for (const imp of file.getImportDeclarations()) if (isV0(imp.getModuleSpecifierValue()) && imp.getDefaultImport()) names.add(imp.getDefaultImport()!.getText());
  for (const d of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    const spec = requireSpecifier(d.getInitializer());
    if (spec && isV0(spec) && Morph.Node.isIdentifier(d.getNameNode())) names.add(d.getName());
  }
  return names;
}
