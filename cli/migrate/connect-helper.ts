import type { SourceFile } from "ts-morph";
import { Morph, SK } from "../parser.js";
import type { Helper } from "./classify.js";
import { unwrap } from "./names.js";

/**
 * The helpers of the Next.js MongoDB examples keep their names and their
 * promises: connectToDatabase() resolves { client, db } through
 * database.connect(); a helper returning the client (getMongoClient()) returns
 * database.clientPromise(); one returning the Db returns connect()'s db.
 */
export function connectHelperReplacement(h: Helper, database: string, adapter: string, exp: string): { text: string; described: string } | { fail: string } {
  if (!h.async && !returnsPromise(h)) return { fail: `${h.name}() returns its value synchronously; createDatabase() connects lazily, so every caller would have to await it` };
  if (h.role === "client" && adapter !== "mongodb") return { fail: `${h.name}() hands out the pool itself; read it with (await ${database}.connect()).db instead` };
  const body = h.role === "connection" ? `${database}.connect()` : h.role === "db" ? `(await ${database}.connect()).db` : `${database}.clientPromise()`;
  const async = h.role === "db" ? "async " : "";
  const text =
    h.arrow || Morph.Node.isVariableStatement(h.statement)
      ? `${exp}const ${h.name} = ${async}() => ${body};`
      : `${exp || (h.exportAs === "default" ? "export default " : "")}${async}function ${h.name}() {\n  return ${body};\n}`;
  const what = h.role === "connection" ? "still resolves { client, db }" : h.role === "db" ? "still resolves the Db" : "still resolves the connected MongoClient, and never stays rejected after an outage";
  return { text, described: `${h.name}() now returns ${body}: ${what}` };
}

function returnsPromise(h: Helper): boolean {
  return h.fn.getDescendantsOfKind(SK.ReturnStatement).some((r) => /\.(then|connect)\(|[Pp]romise/.test(r.getExpression()?.getText() ?? ""));
}

export function promiseReplacement(name: string, database: string, exp: string): string {
  return `${exp}const ${name} = ${database}.clientPromise();`;
}

/** A variable holding a promise of the client: `clientPromise = client.connect()`, or so named. */
export function isClientPromise(file: SourceFile, name: string): boolean {
  if (/promise/i.test(name)) return true;
  for (const e of file.getDescendantsOfKind(SK.BinaryExpression)) {
    if (e.getLeft().getText() !== name) continue;
    const right = unwrap(e.getRight());
    if (Morph.Node.isCallExpression(right) && /\.connect\(/.test(right.getText()) && !Morph.Node.isAwaitExpression(e.getRight())) return true;
  }
  return false;
}
