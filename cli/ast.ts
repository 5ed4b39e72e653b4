import type { Node, SourceFile } from "ts-morph";
import { Morph, SK } from "./parser.js";

export type Driver = "mongodb" | "pg" | "mysql2" | "prisma";
export type CreationApi = "new MongoClient" | "MongoClient.connect" | "new Pool" | "createPool" | "createConnection" | "new PrismaClient";

export interface Creation {
  node: Node;
  driver: Driver;
  api: CreationApi;
  args: Node[];
  /** mysql2 only: the callback API (`mysql2`), not `mysql2/promise`. */
  callbackApi: boolean;
}

/** Local names bound to a driver module (namespace/default) or to one of its exports. */
export interface Bindings {
  namespaces: Map<string, string>; // local name -> module specifier
  named: Map<string, { module: string; name: string }>;
}

function driverOf(specifier: string): Driver | null {
  if (specifier === "mongodb") return "mongodb";
  if (specifier === "pg") return "pg";
  if (specifier === "mysql2" || specifier === "mysql2/promise") return "mysql2";
  if (specifier === "@prisma/client" || /(^|\/)prisma(\/client)?$/.test(specifier) || specifier.endsWith("/prisma/client")) return "prisma";
  return null;
}

export function requireSpecifier(node: Node | undefined): string | null {
  if (!node || !Morph.Node.isCallExpression(node)) return null;
  const callee = node.getExpression();
  const [arg] = node.getArguments();
  if (callee.getText() !== "require" || !arg || !Morph.Node.isStringLiteral(arg)) return null;
  return arg.getLiteralValue();
}

export function bindings(file: SourceFile): Bindings {
  const b: Bindings = { namespaces: new Map(), named: new Map() };
  for (const imp of file.getImportDeclarations()) {
    const module = imp.getModuleSpecifierValue();
    if (!driverOf(module)) continue;
    const def = imp.getDefaultImport();
    if (def) b.namespaces.set(def.getText(), module);
    const ns = imp.getNamespaceImport();
    if (ns) b.namespaces.set(ns.getText(), module);
    for (const n of imp.getNamedImports()) b.named.set((n.getAliasNode() ?? n.getNameNode()).getText(), { module, name: n.getName() });
  }
  for (const decl of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    let init = decl.getInitializer();
    let member: string | null = null;
    // const MongoClient = require("mongodb").MongoClient
    if (init && Morph.Node.isPropertyAccessExpression(init)) {
      member = init.getName();
      init = init.getExpression();
    }
    const module = requireSpecifier(init);
    if (!module || !driverOf(module)) continue;
    const name = decl.getNameNode();
    if (Morph.Node.isIdentifier(name)) {
      if (member) b.named.set(name.getText(), { module, name: member });
      else b.namespaces.set(name.getText(), module);
    } else if (Morph.Node.isObjectBindingPattern(name)) {
      for (const el of name.getElements()) {
        b.named.set(el.getName(), { module, name: (el.getPropertyNameNode() ?? el.getNameNode()).getText() });
      }
    }
  }
  return b;
}

/** What a `new X(...)` or `X.y(...)` creates, if it is a driver client or pool. */
export function creationOf(node: Node, b: Bindings): Creation | null {
  if (!Morph.Node.isNewExpression(node) && !Morph.Node.isCallExpression(node)) return null;
  const callee = node.getExpression();
  const args = node.getArguments() as Node[];
  let module: string | null = null;
  let name: string | null = null;
  if (Morph.Node.isIdentifier(callee)) {
    const bound = b.named.get(callee.getText());
    if (bound) [module, name] = [bound.module, bound.name];
  } else if (Morph.Node.isPropertyAccessExpression(callee)) {
    const obj = callee.getExpression();
    const member = callee.getName();
    if (Morph.Node.isIdentifier(obj)) {
      const ns = b.namespaces.get(obj.getText());
      const bound = b.named.get(obj.getText());
      if (ns) [module, name] = [ns, member];
      // MongoClient.connect(url)
      else if (bound?.name === "MongoClient" && member === "connect") [module, name] = [bound.module, "MongoClient.connect"];
    } else if (Morph.Node.isPropertyAccessExpression(obj) && obj.getName() === "MongoClient" && member === "connect") {
      const ns = b.namespaces.get(obj.getExpression().getText());
      if (ns) [module, name] = [ns, "MongoClient.connect"];
    }
  }
  if (!module || !name) return null;
  const driver = driverOf(module)!;
  const isNew = Morph.Node.isNewExpression(node);
  const make = (api: CreationApi): Creation => ({ node, driver, api, args, callbackApi: module === "mysql2" });
  if (driver === "mongodb" && isNew && name === "MongoClient") return make("new MongoClient");
  if (driver === "mongodb" && !isNew && name === "MongoClient.connect") return make("MongoClient.connect");
  if (driver === "pg" && isNew && name === "Pool") return make("new Pool");
  if (driver === "mysql2" && !isNew && name === "createPool") return make("createPool");
  if (driver === "mysql2" && !isNew && name === "createConnection") return make("createConnection");
  if (driver === "prisma" && isNew && name === "PrismaClient") return make("new PrismaClient");
  return null;
}

export function creations(file: SourceFile, b = bindings(file)): Creation[] {
  const found: Creation[] = [];
  file.forEachDescendant((node) => {
    const c = creationOf(node, b);
    if (c) found.push(c);
  });
  return found;
}

export type FunctionNode = Node & { getParameters(): Node[] };

export function isFunctionLike(node: Node): node is FunctionNode {
  return Morph.Node.isFunctionDeclaration(node) || Morph.Node.isFunctionExpression(node) || Morph.Node.isArrowFunction(node) || Morph.Node.isMethodDeclaration(node);
}

export function enclosingFunction(node: Node): FunctionNode | undefined {
  return node.getFirstAncestor((a) => isFunctionLike(a)) as FunctionNode | undefined;
}

const ROUTE_EXPORTS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/**
 * A function that runs per request: (req, res[, next]) by its parameter
 * names, an App Router export (GET, POST...), or a function handed to a
 * router (.get(fn), .use(fn), nextConnect().post(fn)).
 */
export function isRequestHandler(fn: FunctionNode): boolean {
  const params = fn.getParameters().map((p) => p.getText().split(/[:=]/)[0]!.trim());
  if (params.length >= 2 && /^(req|request)$/i.test(params[0]!)) return true;
  const name = functionName(fn);
  if (name && ROUTE_EXPORTS.has(name)) return true;
  const parent = fn.getParent();
  if (parent && Morph.Node.isCallExpression(parent)) {
    const callee = parent.getExpression();
    if (Morph.Node.isPropertyAccessExpression(callee) && /^(get|post|put|patch|delete|use|all|handler)$/.test(callee.getName())) return true;
  }
  return false;
}

export function functionName(fn: Node): string | undefined {
  if (Morph.Node.isFunctionDeclaration(fn)) return fn.getName();
  const parent = fn.getParent();
  if (parent && Morph.Node.isVariableDeclaration(parent)) return parent.getName();
  return undefined;
}

/** `global`, `globalThis`, or a cast of one (`globalThis as unknown as {...}`). */
export function isGlobalObject(node: Node | undefined): boolean {
  if (!node) return false;
  let n: Node = node;
  while (Morph.Node.isAsExpression(n) || Morph.Node.isParenthesizedExpression(n) || Morph.Node.isTypeAssertion(n) || Morph.Node.isSatisfiesExpression(n)) {
    n = n.getExpression();
  }
  return Morph.Node.isIdentifier(n) && (n.getText() === "global" || n.getText() === "globalThis");
}

/** Reads `process.env.NODE_ENV` (or `process.env["NODE_ENV"]`). */
export function readsNodeEnv(node: Node): boolean {
  return node.getDescendants().concat(node).some((n) => /^process\.env(\.NODE_ENV|\[["']NODE_ENV["']\])$/.test(n.getText()) && (Morph.Node.isPropertyAccessExpression(n) || Morph.Node.isElementAccessExpression(n)));
}
