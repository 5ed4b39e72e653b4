import type { Node, SourceFile, Statement } from "ts-morph";
import { bindings, creationOf, isFunctionLike, isGlobalObject, type Bindings, type Creation, type FunctionNode } from "../ast.js";
import { Morph, SK } from "../parser.js";
import { ASSIGN, referencedNames, rootName, unwrap } from "./names.js";

/** A function of the database module that connects or hands out the client. */
export interface Helper {
  name: string | undefined;
  fn: FunctionNode;
  /** The module-scope statement that declares it (or exports it anonymously). */
  statement: Statement;
  exportAs: "default" | "named" | "module.exports" | "none";
  role: "middleware" | "connection" | "client" | "db";
  async: boolean;
  arrow: boolean;
}

/**
 * The module split in two: the legacy statements (client and cache state,
 * NODE_ENV guards, connect helpers, the middleware) that createDatabase()
 * replaces, and everything else, which stays as written.
 */
export interface Classified {
  b: Bindings;
  creations: Creation[];
  /** Module-scope variables that hold the client, the pool, a promise of them, a cache or globalThis. */
  state: Set<string>;
  helpers: Helper[];
  legacy: Set<Statement>;
  kept: Statement[];
  /** Names the kept statements still mention (values and types), imports excluded. */
  keptRefs: Set<string>;
  usesNodeEnv: boolean;
  usesGlobal: boolean;
}

export function classify(file: SourceFile): Classified {
  const b = bindings(file);
  const found: Creation[] = [];
  file.forEachDescendant((n) => {
    const c = creationOf(n, b);
    if (c) found.push(c);
  });
  const statements = file.getStatements();

  const moduleVars = new Map<string, Node>(); // name -> initializer (or the declaration when none)
  const funcs = new Map<string, { fn: FunctionNode; statement: Statement }>();
  for (const s of statements) {
    if (Morph.Node.isFunctionDeclaration(s) && s.getName()) funcs.set(s.getName()!, { fn: s as unknown as FunctionNode, statement: s });
    if (!Morph.Node.isVariableStatement(s)) continue;
    for (const d of s.getDeclarations()) {
      const init = d.getInitializer();
      if (init && isFunctionLike(unwrapFn(init))) funcs.set(d.getName(), { fn: unwrapFn(init) as FunctionNode, statement: s });
      else moduleVars.set(d.getName(), init ?? d);
    }
  }

  // Which expressions hold the client (or a promise of it, a cache of it, globalThis):
  // a creation, globalThis, a state variable, a property of one, its .connect()/.db()
  // /.then(...), `a ?? b` of those, or a local whose value is one. An object that
  // merely contains the pool (`{ driver: pool }`) or a call taking it (`drizzle(pool)`)
  // is the app's own code using it, not state.
  const state = new Set<string>();
  const seen = new Set<Node>();
  const clientish = (expr: Node): boolean => {
    if (seen.has(expr)) return false;
    seen.add(expr);
    try {
      const e = unwrap(expr);
      if (creationOf(e, b) || isGlobalObject(e)) return true;
      if (Morph.Node.isBinaryExpression(e)) {
        const op = e.getOperatorToken().getText();
        if (/^(\?\?|\|\||&&)$/.test(op)) return clientish(e.getLeft()) || clientish(e.getRight());
        if (ASSIGN.test(op)) return clientish(e.getRight()) || isGlobalRoot(e.getLeft());
        return false;
      }
      if (Morph.Node.isConditionalExpression(e)) return clientish(e.getWhenTrue()) || clientish(e.getWhenFalse());
      if (Morph.Node.isPropertyAccessExpression(e) || Morph.Node.isElementAccessExpression(e)) return clientish(e.getExpression());
      if (Morph.Node.isCallExpression(e)) {
        const callee = e.getExpression();
        return Morph.Node.isPropertyAccessExpression(callee) && /^(connect|db|promise|then|catch|finally)$/.test(callee.getName()) && clientish(callee.getExpression());
      }
      if (Morph.Node.isIdentifier(e)) {
        if (state.has(e.getText()) && moduleVars.has(e.getText())) return true;
        const decl = e.getSymbol()?.getDeclarations()[0];
        if (decl && Morph.Node.isVariableDeclaration(decl) && !moduleVars.has(decl.getName())) {
          const init = decl.getInitializer();
          return !!init && !isFunctionLike(unwrapFn(init)) && clientish(init);
        }
      }
      return false;
    } finally {
      seen.delete(expr);
    }
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, init] of moduleVars) {
      if (state.has(name) || Morph.Node.isVariableDeclaration(init)) continue;
      if (clientish(init)) state.add(name), (changed = true);
    }
    for (const e of file.getDescendantsOfKind(SK.BinaryExpression)) {
      if (!ASSIGN.test(e.getOperatorToken().getText())) continue;
      const left = e.getLeft();
      if (!Morph.Node.isIdentifier(left) || !moduleVars.has(left.getText()) || state.has(left.getText())) continue;
      if (clientish(e.getRight())) state.add(left.getText()), (changed = true);
    }
  }

  const helpers: Helper[] = [];
  // A helper sets up or hands out the client: it creates one, stores it (state or
  // globalThis), sets req.db, or returns the stored client / its .db() / .connect().
  // A function that only uses the pool (`transfer()` running queries) is the app's own code.
  const isState = (n: Node) => {
    let root: Node = unwrap(n);
    while (Morph.Node.isPropertyAccessExpression(root) || Morph.Node.isElementAccessExpression(root) || Morph.Node.isNonNullExpression(root)) root = root.getExpression();
    return isGlobalObject(root) || (Morph.Node.isIdentifier(root) && state.has(root.getText()));
  };
  const isHelperBody = (fn: FunctionNode) => {
    const body = fn as Node;
    if (roleOf(fn) === "middleware") return true;
    if (body.getDescendants().some((n) => creationOf(n, b))) return true;
    for (const e of body.getDescendantsOfKind(SK.BinaryExpression)) {
      if (ASSIGN.test(e.getOperatorToken().getText()) && isState(e.getLeft())) return true;
    }
    for (const r of body.getDescendantsOfKind(SK.ReturnStatement)) {
      const e = r.getExpression();
      if (!e || r.getFirstAncestor((a) => isFunctionLike(a)) !== fn) continue;
      const v = unwrap(e);
      if (isState(v) && !Morph.Node.isCallExpression(v)) return true;
      if (Morph.Node.isCallExpression(v) && /\.(db|connect)$/.test(v.getExpression().getText()) && isState(v.getExpression())) return true;
    }
    return false;
  };
  for (const [name, { fn, statement }] of funcs) {
    if (isHelperBody(fn)) helpers.push(helper(name, fn, statement));
  }
  // Anonymous exports: `export default async (req, res, next) => {...}`, `module.exports = function (...) {...}`.
  for (const s of statements) {
    const fn = anonymousExport(s);
    if (fn && isHelperBody(fn)) helpers.push(helper(undefined, fn, s));
  }

  const helperNames = new Set(helpers.map((h) => h.name).filter((n): n is string => !!n));
  const helperStatements = new Set(helpers.map((h) => h.statement));
  const legacy = new Set<Statement>();
  for (const s of statements) {
    if (helperStatements.has(s)) {
      // A statement declaring a helper and something else cannot be split safely.
      if (Morph.Node.isVariableStatement(s) && !s.getDeclarations().every((d) => helperNames.has(d.getName()) || state.has(d.getName()))) continue;
      legacy.add(s);
    } else if (isLegacyStatement(s, state, new Set())) legacy.add(s);
  }
  // `const g = globalThis as {...}` that the app's own code also reads (a counter,
  // another cache) is not the client: it stays, and only the client goes.
  const readByKept = (name: string) =>
    statements.some((s) => !legacy.has(s) && !Morph.Node.isImportDeclaration(s) && referencedNames(s).has(name));
  for (const s of statements) {
    if (!legacy.has(s) || !Morph.Node.isVariableStatement(s)) continue;
    const decls = s.getDeclarations();
    if (decls.every((d) => isGlobalObject(d.getInitializer())) && decls.some((d) => readByKept(d.getName()))) {
      legacy.delete(s);
      for (const d of decls) state.delete(d.getName());
    }
  }
  const kept = statements.filter((s) => !legacy.has(s));
  const keptRefs = new Set<string>();
  for (const s of kept) {
    if (Morph.Node.isImportDeclaration(s)) continue;
    if (Morph.Node.isVariableStatement(s) && s.getDeclarations().every((d) => d.getInitializer()?.getText().startsWith("require("))) continue;
    for (const n of referencedNames(s)) keptRefs.add(n);
  }
  const legacyText = [...legacy].map((s) => s.getText()).join("\n");
  return {
    b,
    creations: found,
    state,
    helpers: helpers.filter((h) => legacy.has(h.statement)),
    legacy,
    kept,
    keptRefs,
    usesNodeEnv: /process\.env\.NODE_ENV|process\.env\[["']NODE_ENV["']\]/.test(legacyText),
    usesGlobal: /\bglobal(This)?\b/.test(legacyText),
  };

  function helper(name: string | undefined, fn: FunctionNode, statement: Statement): Helper {
    return {
      name,
      fn,
      statement,
      exportAs: exportKind(statement),
      role: roleOf(fn),
      async: fn.getText().trimStart().startsWith("async") || /^\s*(export\s+(default\s+)?)?async\b/.test(statement.getText()),
      arrow: Morph.Node.isArrowFunction(fn),
    };
  }

  /** Nested statements that only set up client state: declarations of it, assignments to it, guards around them. */
  function isLegacyStatement(s: Node, st: Set<string>, locals: Set<string>): boolean {
    if (Morph.Node.isBlock(s)) {
      const inner = new Set(locals);
      return s.getStatements().length > 0 && s.getStatements().every((x) => isLegacyStatement(x, st, inner));
    }
    if (Morph.Node.isIfStatement(s)) {
      const els = s.getElseStatement();
      return isLegacyStatement(s.getThenStatement(), st, locals) && (!els || isLegacyStatement(els, st, locals));
    }
    if (Morph.Node.isVariableStatement(s)) {
      const decls = s.getDeclarations();
      const top = Morph.Node.isSourceFile(s.getParent());
      const ok = decls.every((d) => (top ? st.has(d.getName()) : !!d.getInitializer() && clientish(d.getInitializer()!)));
      if (ok && !top) for (const d of decls) locals.add(d.getName());
      return ok;
    }
    if (Morph.Node.isExpressionStatement(s)) {
      const e = unwrap(s.getExpression());
      if (Morph.Node.isBinaryExpression(e) && ASSIGN.test(e.getOperatorToken().getText())) {
        const left = e.getLeft();
        if (/^(module\.)?exports\b/.test(left.getText())) return false;
        const root = rootName(left);
        if (root && (st.has(root) || locals.has(root))) return true;
        if (isGlobalObject(left.getFirstDescendant(() => true) ?? left) || isGlobalRoot(left)) return true;
        return false;
      }
      if (Morph.Node.isCallExpression(e)) {
        const root = rootName(e.getExpression());
        return !!root && st.has(root) && Morph.Node.isPropertyAccessExpression(e.getExpression());
      }
    }
    return false;
  }
}

function isGlobalRoot(node: Node): boolean {
  let n: Node = node;
  while (Morph.Node.isPropertyAccessExpression(n) || Morph.Node.isElementAccessExpression(n)) n = n.getExpression();
  return isGlobalObject(n);
}

function unwrapFn(node: Node): Node {
  let n = node;
  while (Morph.Node.isParenthesizedExpression(n) || Morph.Node.isAsExpression(n) || Morph.Node.isSatisfiesExpression(n)) n = n.getExpression();
  return n;
}

function anonymousExport(s: Statement): FunctionNode | undefined {
  if (Morph.Node.isExportAssignment(s)) {
    const e = unwrapFn(s.getExpression());
    return isFunctionLike(e) ? (e as FunctionNode) : undefined;
  }
  if (Morph.Node.isFunctionDeclaration(s) && !s.getName() && s.isDefaultExport()) return s as unknown as FunctionNode;
  if (Morph.Node.isExpressionStatement(s)) {
    const e = s.getExpression();
    if (Morph.Node.isBinaryExpression(e) && e.getOperatorToken().getText() === "=" && e.getLeft().getText() === "module.exports") {
      const fn = unwrapFn(e.getRight());
      return isFunctionLike(fn) ? (fn as FunctionNode) : undefined;
    }
  }
  return undefined;
}

function exportKind(s: Statement): Helper["exportAs"] {
  if (Morph.Node.isExportAssignment(s)) return "default";
  if (Morph.Node.isExpressionStatement(s)) return "module.exports";
  const text = s.getText();
  if (/^export\s+default\b/.test(text)) return "default";
  if (/^export\b/.test(text)) return "named";
  return "none";
}

function roleOf(fn: FunctionNode): Helper["role"] {
  const params = fn.getParameters().map((p) => p.getText().split(/[:=]/)[0]!.trim());
  const body = fn as Node;
  if (params.length >= 3) {
    const [req, , next] = params as [string, string, string];
    const setsDb = body.getDescendantsOfKind(SK.BinaryExpression).some((e) => /^(db|dbClient)$/.test(e.getLeft().getText().slice(req.length + 1)) && e.getLeft().getText().startsWith(`${req}.`));
    const callsNext = body.getDescendantsOfKind(SK.CallExpression).some((c) => c.getExpression().getText() === next);
    if (setsDb && callsNext) return "middleware";
  }
  const objects = body.getDescendantsOfKind(SK.ObjectLiteralExpression);
  if (objects.some((o) => ["client", "db"].every((k) => o.getProperty(k)))) return "connection";
  const returns = body.getDescendantsOfKind(SK.ReturnStatement).filter((r) => r.getFirstAncestor((a) => isFunctionLike(a)) === fn);
  if (returns.some((r) => {
    const e = r.getExpression();
    return !!e && /\.db\([^)]*\)$/.test(unwrap(e).getText());
  })) return "db";
  return "client";
}
