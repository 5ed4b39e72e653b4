import type { Node, SourceFile } from "ts-morph";
import { Morph, SK } from "../parser.js";
import type { CheckHit } from "./types.js";

/**
 * A connect promise stored in a cache (module variable, globalThis, a cache
 * object) that nothing clears when it rejects: after one failed connect every
 * later caller awaits the same rejected promise until the process restarts.
 */
export function cachedRejection(file: SourceFile): CheckHit[] {
  const hits: CheckHit[] = [];
  const stores: { target: string; value: Node; at: Node }[] = [];
  for (const e of file.getDescendantsOfKind(SK.BinaryExpression)) {
    if (!/^(=|\?\?=|\|\|=)$/.test(e.getOperatorToken().getText())) continue;
    const left = e.getLeft();
    const cache = Morph.Node.isPropertyAccessExpression(left) || Morph.Node.isElementAccessExpression(left) || (Morph.Node.isIdentifier(left) && declaredAtModuleScope(left));
    if (cache) stores.push({ target: left.getText(), value: e.getRight(), at: e });
  }
  for (const d of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    const init = d.getInitializer();
    if (init && Morph.Node.isSourceFile(d.getFirstAncestor((a) => Morph.Node.isSourceFile(a) || Morph.Node.isBlock(a))!)) {
      stores.push({ target: d.getName(), value: init, at: d });
    }
  }
  for (const s of stores) {
    if (!isPendingConnect(s.value)) continue;
    if (clearedOnFailure(file, s.target) || handlesRejection(s.value)) continue;
    hits.push({ node: s.at, rule: "cached-rejection", message: "a connect promise is cached and never cleared when it rejects: after one failed connect, every request fails until restart" });
  }
  return hits;
}

/** A promise of a connect (`client.connect()`, `MongoClient.connect(url).then(...)`), not awaited. */
function isPendingConnect(value: Node): boolean {
  let n: Node = value;
  while (Morph.Node.isParenthesizedExpression(n) || Morph.Node.isAsExpression(n)) n = n.getExpression();
  if (!Morph.Node.isCallExpression(n)) return false;
  // Walk down the call chain: x.connect().then(f).then(g)
  for (let c: Node = n; Morph.Node.isCallExpression(c); ) {
    const callee = c.getExpression();
    if (!Morph.Node.isPropertyAccessExpression(callee)) return false;
    if (callee.getName() === "connect") return true;
    if (!/^(then|finally)$/.test(callee.getName())) return false;
    c = callee.getExpression();
  }
  return false;
}

function handlesRejection(value: Node): boolean {
  return value.getDescendantsOfKind(SK.PropertyAccessExpression).some((p) => p.getName() === "catch") ||
    value.getDescendantsOfKind(SK.CallExpression).some((c) => c.getExpression().getText().endsWith(".then") && c.getArguments().length > 1);
}

/** `target = null | undefined` or `delete target` inside a catch clause or a .catch() callback. */
function clearedOnFailure(file: SourceFile, target: string): boolean {
  const inFailurePath = (n: Node) =>
    n.getAncestors().some((a) => Morph.Node.isCatchClause(a) || (Morph.Node.isCallExpression(a) && a.getExpression().getText().endsWith(".catch")));
  for (const e of file.getDescendantsOfKind(SK.BinaryExpression)) {
    if (e.getOperatorToken().getText() !== "=" || e.getLeft().getText() !== target) continue;
    if (/^(null|undefined|void 0)$/.test(e.getRight().getText()) && inFailurePath(e)) return true;
  }
  return file.getDescendantsOfKind(SK.DeleteExpression).some((d) => d.getExpression().getText() === target && inFailurePath(d));
}

function declaredAtModuleScope(id: Node): boolean {
  const decl = id.getSymbol()?.getDeclarations()[0];
  return !!decl && Morph.Node.isVariableDeclaration(decl) && Morph.Node.isSourceFile(decl.getFirstAncestor((a) => Morph.Node.isSourceFile(a) || Morph.Node.isBlock(a) || Morph.Node.isFunctionDeclaration(a))!);
}
