import type { Node } from "ts-morph";
import type { Creation } from "../ast.js";
import { Morph, SK } from "../parser.js";
import type { Classified } from "./classify.js";

/** Options driver 3.x took that 4.x ignores and 6.x rejects at construction. */
const LEGACY_MONGO_OPTIONS = new Set(["useNewUrlParser", "useUnifiedTopology", "useCreateIndex", "useFindAndModify", "autoReconnect", "reconnectTries", "reconnectInterval", "bufferMaxEntries"]);

export interface AdapterCall {
  adapter: "mongodb" | "pg" | "mysql2";
  text: string;
  /** Properties to delete from a kept options object (`const options = { useNewUrlParser: true }`). */
  removeProps: Node[];
  changed: string[];
  left: { line: number; what: string; why: string }[];
}

export type AdapterResult = AdapterCall | { fail: string; line: number };

export function adapterCall(c: Classified): AdapterResult {
  const made = c.creations.filter((x) => x.driver !== "prisma");
  const first = made[0]!;
  const sameArgs = made.every((x) => x.args.map((a) => a.getText()).join("\u0000") === first.args.map((a) => a.getText()).join("\u0000"));
  if (!sameArgs) return { fail: "the client is created in more than one place with different settings; merge them into one createDatabase() by hand", line: made[1]!.node.getStartLineNumber() };
  if (first.driver === "mongodb") return mongoCall(c, first);
  if (first.driver === "pg") return sqlCall("pg", first.args[0] ? first.args[0].getText() : "{}");
  return mysqlCall(first);
}

function prop(key: string, valueText: string): string {
  return valueText === key ? key : `${key}: ${valueText}`;
}

/**
 * A local of the code being removed (`const opts = {...}` inside
 * connectToDatabase()) does not exist next to the new definition: its value
 * is written there instead.
 */
function resolveLocal(node: Node, c: Classified): Node {
  if (!Morph.Node.isIdentifier(node)) return node;
  const decl = node.getSymbol()?.getDeclarations()[0];
  if (!decl || !Morph.Node.isVariableDeclaration(decl) || Morph.Node.isSourceFile(decl.getVariableStatement()?.getParent())) return node;
  const init = decl.getInitializer();
  const inLegacy = [...c.legacy].some((s) => s.containsRange(decl.getPos(), decl.getEnd()));
  return inLegacy && init ? resolveLocal(init, c) : node;
}

function mongoCall(c: Classified, made: Creation): AdapterResult {
  const url = made.args[0] && resolveLocal(made.args[0], c);
  const options = made.args[1] && resolveLocal(made.args[1], c);
  if (!url) return { fail: "the MongoClient is created without a URL", line: made.node.getStartLineNumber() };
  const parts = [prop("url", url.getText())];
  const result: AdapterCall = { adapter: "mongodb", text: "", removeProps: [], changed: [], left: [] };

  const dbNames = new Set<string>();
  for (const s of c.legacy) {
    for (const call of s.getDescendantsOfKind(SK.CallExpression)) {
      const callee = call.getExpression();
      if (!Morph.Node.isPropertyAccessExpression(callee) || callee.getName() !== "db") continue;
      const arg = call.getArguments()[0];
      dbNames.add(arg ? resolveLocal(arg, c).getText() : "");
    }
  }
  if (dbNames.size > 1) return { fail: "the module selects more than one database with client.db(...); createDatabase() serves one per name", line: made.node.getStartLineNumber() };
  const [dbName] = dbNames;
  if (dbName) parts.push(prop("dbName", dbName));
  else if (dbName === undefined) {
    // Nothing here picked a database; callers use client.db(name) themselves. The
    // adapter needs one for req.db: the driver's own default keeps client.db() as it was.
    parts.push(`dbName: "test"`);
    result.left.push({ line: made.node.getStartLineNumber(), what: "dbName set to \"test\"", why: "this module never selected a database (callers call client.db(name) themselves); \"test\" is what the driver's client.db() used when the URL names none. Set the database req.db and connect() should give" });
  } else {
    result.changed.push("client.db() without a name: req.db is the database named in the URL's path (a URL without one now fails at first use naming dbName, instead of silently using \"test\")");
  }

  if (options && Morph.Node.isObjectLiteralExpression(options)) {
    for (const p of options.getProperties()) {
      const name = Morph.Node.isPropertyAssignment(p) || Morph.Node.isShorthandPropertyAssignment(p) ? p.getName() : undefined;
      if (name && LEGACY_MONGO_OPTIONS.has(name)) {
        result.changed.push(`dropped the driver 3.x option ${name} (MongoDB driver 6 and 7 reject it)`);
        continue;
      }
      if (name === "poolSize" && Morph.Node.isPropertyAssignment(p)) {
        parts.push(`maxPoolSize: ${p.getInitializer()!.getText()}`);
        result.changed.push("renamed the driver 3.x option poolSize to maxPoolSize");
        continue;
      }
      parts.push(p.getText());
    }
  } else if (options && Morph.Node.isIdentifier(options)) {
    parts.push(`...${options.getText()}`);
    const decl = options.getSymbol()?.getDeclarations()[0];
    const init = decl && Morph.Node.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    if (init && Morph.Node.isObjectLiteralExpression(init) && ![...c.legacy].some((s) => s.containsRange(init.getPos(), init.getEnd()))) {
      for (const p of init.getProperties()) {
        const name = Morph.Node.isPropertyAssignment(p) || Morph.Node.isShorthandPropertyAssignment(p) ? p.getName() : undefined;
        if (name && LEGACY_MONGO_OPTIONS.has(name)) {
          result.removeProps.push(p);
          result.changed.push(`dropped the driver 3.x option ${name} from ${options.getText()} (MongoDB driver 6 and 7 reject it)`);
        }
        if (name === "poolSize") result.left.push({ line: p.getStartLineNumber(), what: "poolSize option", why: "driver 4+ calls it maxPoolSize" });
      }
    }
  } else if (options) {
    parts.push(`...(${options.getText()})`);
  }
  result.text = `mongodb({ ${parts.join(", ")} })`;
  return result;
}

function sqlCall(adapter: "pg" | "mysql2", config: string): AdapterCall {
  return { adapter, text: `${adapter}(${config})`, removeProps: [], changed: [], left: [] };
}

function mysqlCall(made: Creation): AdapterResult {
  const [arg] = made.args;
  if (!arg) return { fail: "createPool() without settings", line: made.node.getStartLineNumber() };
  if (Morph.Node.isObjectLiteralExpression(arg)) return sqlCall("mysql2", arg.getText());
  if (Morph.Node.isStringLiteral(arg) || Morph.Node.isNoSubstitutionTemplateLiteral(arg) || Morph.Node.isTemplateExpression(arg) || /^process\.env\b/.test(arg.getText())) {
    return sqlCall("mysql2", `{ uri: ${arg.getText()} }`);
  }
  if (Morph.Node.isIdentifier(arg)) {
    const decl = arg.getSymbol()?.getDeclarations()[0];
    const init = decl && Morph.Node.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    if (init && Morph.Node.isObjectLiteralExpression(init)) return sqlCall("mysql2", arg.getText());
    if (init && (Morph.Node.isStringLiteral(init) || /^process\.env\b/.test(init.getText()) || Morph.Node.isTemplateExpression(init))) return sqlCall("mysql2", `{ uri: ${arg.getText()} }`);
  }
  return { fail: "createPool() gets settings whose shape (URL or options object) cannot be told from the code", line: made.node.getStartLineNumber() };
}
