import type { Node, SourceFile, VariableDeclaration } from "ts-morph";
import { bindings, creationOf, requireSpecifier } from "../ast.js";
import { Morph, SK } from "../parser.js";
import type { CheckHit } from "./types.js";

/**
 * `const client = await pool.connect()` (pg) or `await pool.getConnection()`
 * (mysql2) whose connection is not released in a `finally`: an error between
 * checkout and release leaks it, and a pool drained that way hangs every
 * request.
 */
export function checkoutWithoutRelease(file: SourceFile): CheckHit[] {
  const hits: CheckHit[] = [];
  const b = bindings(file);
  for (const decl of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    const name = decl.getNameNode();
    if (!Morph.Node.isIdentifier(name)) continue; // `const { db } = await x.connect()` is not a checkout
    const call = checkoutCall(decl);
    if (!call) continue;
    const receiver = (call.getExpression() as unknown as { getExpression(): Node }).getExpression();
    if (isMongo(receiver, b) || fromOtherPackage(file, receiver)) continue;
    const v = name.getText();
    const uses = decl.getParentOrThrow().getParentOrThrow().getParentOrThrow();
    const scope = decl.getFirstAncestor((a) => Morph.Node.isBlock(a) || Morph.Node.isSourceFile(a)) ?? uses;
    // A next-db-connect handle's connect() gives { db, client }, and MongoClient#connect a client with .db(): neither is a checkout.
    if (usesMember(scope, v, ["db", "client", "collection"])) continue;
    if (releasedInFinally(scope, v)) continue;
    hits.push({ node: decl, rule: "checkout-without-release", message: `a connection checked out here is not released in a finally block; an error before release() leaks it` });
  }
  return hits;
}

function checkoutCall(decl: VariableDeclaration) {
  let init = decl.getInitializer();
  if (!init || !Morph.Node.isAwaitExpression(init)) return null;
  init = init.getExpression();
  if (!Morph.Node.isCallExpression(init)) return null;
  const callee = init.getExpression();
  if (!Morph.Node.isPropertyAccessExpression(callee)) return null;
  if (callee.getName() !== "connect" && callee.getName() !== "getConnection") return null;
  if (init.getArguments().length > 0) return null; // callback style is not an awaited checkout
  return init;
}

function isMongo(receiver: Node, b: ReturnType<typeof bindings>): boolean {
  if (creationOf(receiver, b)?.driver === "mongodb") return true;
  if (Morph.Node.isIdentifier(receiver) && b.named.get(receiver.getText())?.name === "MongoClient") return true;
  const decl = receiver.getSymbol()?.getDeclarations()[0];
  if (decl && Morph.Node.isVariableDeclaration(decl)) {
    const init = decl.getInitializer();
    if (init && creationOf(init, b)?.driver === "mongodb") return true;
  }
  return false;
}

/** `mongoose.connect()`, `prisma.$connect()`...: a package other than pg and mysql2 is not a pool checkout. */
function fromOtherPackage(file: SourceFile, receiver: Node): boolean {
  const root = receiver.getText().split(/[.([]/)[0]!;
  const specifiers: string[] = [];
  for (const imp of file.getImportDeclarations()) {
    const names = [imp.getDefaultImport()?.getText(), imp.getNamespaceImport()?.getText(), ...imp.getNamedImports().map((n) => (n.getAliasNode() ?? n.getNameNode()).getText())];
    if (names.includes(root)) specifiers.push(imp.getModuleSpecifierValue());
  }
  for (const d of file.getDescendantsOfKind(SK.VariableDeclaration)) {
    const spec = requireSpecifier(d.getInitializer());
    if (spec && d.getNameNode().getText().includes(root)) specifiers.push(spec);
  }
  return specifiers.some((s) => !/^(\.|@\/|~\/|#)/.test(s) && !/^(pg|mysql2)(\/|$)/.test(s));
}

function usesMember(scope: Node, v: string, members: string[]): boolean {
  return scope.getDescendantsOfKind(SK.PropertyAccessExpression).some((p) => p.getExpression().getText() === v && members.includes(p.getName()));
}

function releasedInFinally(scope: Node, v: string): boolean {
  return scope.getDescendantsOfKind(SK.TryStatement).some((t) => {
    const fin = t.getFinallyBlock();
    return !!fin && fin.getDescendantsOfKind(SK.CallExpression).some((c) => /^(release|end|destroy)$/.test(c.getExpression().getText().split(".").pop()!) && c.getExpression().getText().startsWith(`${v}.`));
  });
}
