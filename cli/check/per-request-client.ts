import type { Node, SourceFile } from "ts-morph";
import { bindings, creations, enclosingFunction, isFunctionLike, isRequestHandler, type FunctionNode } from "../ast.js";
import { Morph } from "../parser.js";
import type { CheckHit } from "./types.js";

/**
 * A driver client or pool created while serving a request: every request
 * pays a connect and opens its own connections. Created inside a handler and
 * not stored in a cache outside it (module scope or globalThis).
 */
export function perRequestClient(file: SourceFile): CheckHit[] {
  const hits: CheckHit[] = [];
  for (const c of creations(file, bindings(file))) {
    if (c.driver === "prisma") continue;
    const fn = enclosingFunction(c.node);
    if (!fn || !insideHandler(fn)) continue;
    if (storedOutside(c.node, fn)) continue;
    hits.push({ node: c.node, rule: "per-request-client", message: `${c.api}(...) inside a request handler opens a new ${c.driver === "mongodb" ? "client" : c.api === "createConnection" ? "connection" : "pool"} per request; define it once with createDatabase()` });
  }
  return hits;
}

function insideHandler(fn: FunctionNode): boolean {
  for (let f: FunctionNode | undefined = fn; f; f = enclosingFunction(f)) if (isRequestHandler(f)) return true;
  return false;
}

/** `global.x = new Pool()`, `cached.client ??= ...`, `moduleVar = ...`: a cache, not per request. */
function storedOutside(node: Node, fn: FunctionNode): boolean {
  let n: Node = node;
  for (;;) {
    const p = n.getParent();
    if (!p) return false;
    if (Morph.Node.isAwaitExpression(p) || Morph.Node.isParenthesizedExpression(p) || Morph.Node.isAsExpression(p)) n = p;
    else if (Morph.Node.isPropertyAccessExpression(p) && Morph.Node.isCallExpression(p.getParent())) n = p.getParent()!;
    else if (Morph.Node.isBinaryExpression(p) && /^(=|\?\?=|\|\|=)$/.test(p.getOperatorToken().getText()) && p.getRight() === n) {
      const left = p.getLeft();
      if (Morph.Node.isPropertyAccessExpression(left) || Morph.Node.isElementAccessExpression(left)) return true;
      const decl = left.getSymbol()?.getDeclarations()[0];
      return !!decl && !decl.getAncestors().includes(fn);
    } else if (Morph.Node.isBinaryExpression(p) && /^(\?\?|\|\|)$/.test(p.getOperatorToken().getText())) n = p;
    else return false;
    if (isFunctionLike(n)) return false;
  }
}
