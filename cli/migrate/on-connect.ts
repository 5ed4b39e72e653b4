import type { CallExpression, Node } from "ts-morph";
import { creationOf } from "../ast.js";
import { Morph, SK } from "../parser.js";
import type { Classified, Helper } from "./classify.js";

/** Calls a connect helper may make without doing more than connecting. */
const PLUMBING = new Set([
  "connect", "db", "then", "catch", "finally", "isConnected", "close", "collection", "all", "allSettled", "resolve", "reject",
  "log", "warn", "error", "info", "debug", "for", "promise", "Error", "String", "Number", "Boolean",
]);
const INDEX_CALLS = new Set(["createIndex", "createIndexes"]);

export interface OnConnect {
  /** The onConnect option's text, or null when the helpers create no index. */
  text: string | null;
  described: string[];
}

/**
 * Index creation that ran on the first request (`if (!indexesCreated) await
 * createIndexes(db)`, or createIndex calls next to the connect) becomes the
 * onConnect option: run once after each successful connect. Any other call
 * means the helper does more than connect, and the module is left alone.
 */
export function onConnectOf(c: Classified, keptFunctions: Set<string>): OnConnect | { fail: string; line: number } {
  const steps: string[] = [];
  const described: string[] = [];
  const helperNames = new Set(c.helpers.map((h) => h.name).filter(Boolean));
  for (const h of c.helpers) {
    const next = h.role === "middleware" ? paramName(h, 2) : undefined;
    const req = h.role === "middleware" ? paramName(h, 0) : undefined;
    for (const call of (h.fn as Node).getDescendantsOfKind(SK.CallExpression)) {
      if (creationOf(call, c.b)) continue;
      const callee = call.getExpression();
      const name = Morph.Node.isPropertyAccessExpression(callee) ? callee.getName() : callee.getText();
      if (name === next || helperNames.has(name) || PLUMBING.has(name)) continue;
      if (Morph.Node.isIdentifier(callee) && keptFunctions.has(name)) {
        const arg = call.getArguments()[0];
        const kind = arg ? dbOrClient(arg, c, req) : null;
        if (!kind || call.getArguments().length !== 1) return { fail: `${h.name ?? "the middleware"}() calls ${name}() with arguments other than the database or the client; move that call into createDatabase's onConnect by hand`, line: call.getStartLineNumber() };
        steps.push(`${name}(${kind})`);
        described.push(`${name}(${kind}) moved to onConnect: it runs once after each successful connect, before any request gets the database`);
        continue;
      }
      if (INDEX_CALLS.has(name)) {
        const root = chainRoot(call);
        const kind = root ? dbOrClient(root, c, req) : null;
        if (!root || kind !== "db") return { fail: `${name}() on something other than the database`, line: call.getStartLineNumber() };
        steps.push(call.getText().replace(root.getText(), "db"));
        described.push(`${name}() moved to onConnect`);
        continue;
      }
      return { fail: `${h.name ?? "the middleware"}() does more than connect: it calls ${name}(); createDatabase() would drop that call`, line: call.getStartLineNumber() };
    }
    if (req) {
      for (const e of (h.fn as Node).getDescendantsOfKind(SK.BinaryExpression)) {
        const left = e.getLeft().getText();
        if (e.getOperatorToken().getText() === "=" && left.startsWith(`${req}.`) && !/^(db|dbClient)$/.test(left.slice(req.length + 1))) {
          return { fail: `the middleware also sets ${left}; createDatabase() sets only req.db and req.dbClient`, line: e.getStartLineNumber() };
        }
      }
    }
  }
  const unique = [...new Set(steps)];
  if (unique.length === 0) return { text: null, described };
  const uses = ["db", "client"].filter((k) => unique.some((s) => new RegExp(`\\b${k}\\b`).test(s)));
  const param = `{ ${uses.join(", ")} }`;
  const text = unique.length === 1 ? `(${param}) => ${unique[0]}` : `async (${param}) => {\n    ${unique.map((s) => `await ${s};`).join("\n    ")}\n  }`;
  return { text, described: [...new Set(described)] };
}

function paramName(h: Helper, i: number): string | undefined {
  return h.fn.getParameters()[i]?.getText().split(/[:=]/)[0]!.trim();
}

/** The expression a call chain starts from: `client.db(x)` in `client.db(x).collection("u").createIndex(...)`. */
function chainRoot(call: CallExpression): Node | undefined {
  let n: Node = call.getExpression();
  while (Morph.Node.isPropertyAccessExpression(n) || Morph.Node.isCallExpression(n)) {
    const inner: Node = n.getExpression();
    if (Morph.Node.isPropertyAccessExpression(n) && n.getName() === "collection") return undefined;
    if (Morph.Node.isCallExpression(n) && Morph.Node.isPropertyAccessExpression(inner) && inner.getName() === "collection") return inner.getExpression();
    n = inner;
  }
  return undefined;
}

/** Whether an argument is the Db (`req.db`, `client.db(name)`, a local `db`) or the MongoClient. */
function dbOrClient(arg: Node, c: Classified, req: string | undefined): "db" | "client" | null {
  const text = arg.getText();
  if (req && text === `${req}.db`) return "db";
  if (req && text === `${req}.dbClient`) return "client";
  if (/\.db\([^)]*\)$/.test(text)) return "db";
  if (Morph.Node.isIdentifier(arg)) {
    if (/^(db|database|cachedDb)$/.test(text)) return "db";
    if (c.state.has(text) || /client/i.test(text)) return "client";
    const decl = arg.getSymbol()?.getDeclarations()[0];
    const init = decl && Morph.Node.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    if (init && /\.db\([^)]*\)$/.test(init.getText())) return "db";
  }
  return null;
}
