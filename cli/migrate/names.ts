import type { Node } from "ts-morph";
import { Morph, SK } from "../parser.js";

/**
 * Identifiers a node mentions as values or types (not property names, not
 * names it declares for a property). Shorthand `{ client, db }` counts.
 */
export function referencedNames(node: Node): Set<string> {
  const names = new Set<string>();
  const visit = (id: Node) => {
    const p = id.getParent();
    if (p && Morph.Node.isPropertyAccessExpression(p) && p.getNameNode() === id) return;
    if (p && (Morph.Node.isPropertyAssignment(p) || Morph.Node.isPropertySignature(p) || Morph.Node.isMethodDeclaration(p) || Morph.Node.isPropertyDeclaration(p)) && p.getNameNode() === id) return;
    if (p && Morph.Node.isQualifiedName(p) && p.getRight() === id) return;
    names.add(id.getText());
  };
  if (Morph.Node.isIdentifier(node)) visit(node);
  for (const id of node.getDescendantsOfKind(SK.Identifier)) visit(id);
  return names;
}

/** The identifier at the root of `a.b.c`, `a[0].b`, `a.b()`; undefined for other shapes. */
export function rootName(node: Node): string | undefined {
  let n: Node = node;
  for (;;) {
    if (Morph.Node.isPropertyAccessExpression(n) || Morph.Node.isElementAccessExpression(n) || Morph.Node.isCallExpression(n) || Morph.Node.isNonNullExpression(n) || Morph.Node.isParenthesizedExpression(n) || Morph.Node.isAsExpression(n)) {
      n = n.getExpression();
      continue;
    }
    return Morph.Node.isIdentifier(n) ? n.getText() : undefined;
  }
}

export function unwrap(node: Node): Node {
  let n = node;
  while (Morph.Node.isParenthesizedExpression(n) || Morph.Node.isAsExpression(n) || Morph.Node.isAwaitExpression(n) || Morph.Node.isNonNullExpression(n) || Morph.Node.isSatisfiesExpression(n)) n = n.getExpression();
  return n;
}

export const ASSIGN = /^(=|\?\?=|\|\|=)$/;
