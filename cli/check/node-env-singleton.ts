import type { Node, SourceFile } from "ts-morph";
import { bindings, creations, isGlobalObject, readsNodeEnv } from "../ast.js";
import { Morph, SK } from "../parser.js";
import type { CheckHit } from "./types.js";

/**
 * A client or pool kept on globalThis only when NODE_ENV is not production.
 * In production `next start` evaluates the module once per bundle (Pages
 * Router, App Router, instrumentation), and each evaluation makes a new pool.
 */
export function nodeEnvSingleton(file: SourceFile): CheckHit[] {
  if (creations(file, bindings(file)).length === 0) return [];
  const aliases = globalAliases(file);
  const storesOnGlobal = file.getDescendantsOfKind(SK.BinaryExpression).some((e) => {
    if (!/^(=|\?\?=|\|\|=)$/.test(e.getOperatorToken().getText())) return false;
    const left = e.getLeft();
    return Morph.Node.isPropertyAccessExpression(left) && isGlobalRef(left.getExpression(), aliases);
  });
  if (!storesOnGlobal) return [];
  const hits: CheckHit[] = [];
  const conditions: Node[] = [
    ...file.getDescendantsOfKind(SK.IfStatement).map((s) => s.getExpression()),
    ...file.getDescendantsOfKind(SK.ConditionalExpression).map((s) => s.getCondition()),
  ];
  for (const cond of conditions) {
    if (readsNodeEnv(cond)) hits.push({ node: cond, rule: "node-env-singleton", message: "a globalThis singleton guarded by NODE_ENV: in production each Next.js bundle evaluates this module and opens its own pool" });
  }
  // `if (process.env.NODE_ENV !== "production") globalForDb.pool = pool` has its guard in an if;
  // `process.env.NODE_ENV !== "production" && (global.x = pool)` does not.
  for (const e of file.getDescendantsOfKind(SK.BinaryExpression)) {
    if (e.getOperatorToken().getText() === "&&" && readsNodeEnv(e.getLeft()) && !conditions.some((c) => c === e || c.containsRange(e.getPos(), e.getEnd()))) {
      hits.push({ node: e, rule: "node-env-singleton", message: "a globalThis singleton guarded by NODE_ENV: in production each Next.js bundle evaluates this module and opens its own pool" });
    }
  }
  return hits;
}

/** Variables that hold globalThis under another name: `const globalForPg = globalThis as unknown as {...}`. */
export function globalAliases(file: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const d of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    if (isGlobalObject(d.getInitializer())) names.add(d.getName());
  }
  return names;
}

function isGlobalRef(node: Node, aliases: Set<string>): boolean {
  if (isGlobalObject(node)) return true;
  if (Morph.Node.isIdentifier(node) && aliases.has(node.getText())) return true;
  // global.mongo.client = ...
  return Morph.Node.isPropertyAccessExpression(node) && isGlobalRef(node.getExpression(), aliases);
}
