import type { Node, SourceFile } from "ts-morph";
import type { Classified } from "./classify.js";
import { usesOfExport, usesOfName, type Use } from "./consumers.js";
import type { AppContext } from "./database-module.js";

/** Members of the pool a stand-in can forward without changing what callers get: each returns a promise. */
const FORWARDABLE: Record<"pg" | "mysql2", string[]> = { pg: ["query", "connect"], mysql2: ["query", "execute", "getConnection"] };

/**
 * A pool other code imports (`export const pool = new Pool()`, `export default
 * pool`, `module.exports = { query: (t, p) => pool.query(t, p) }`) keeps its
 * name as a plain object whose methods forward to the database's pool once
 * connected. It is offered only when every use, in every file, is a call of
 * one of those promise-returning methods without a callback: then each call
 * returns what it returned before (a promise of the same result). Anything
 * else (the pool passed around, `pool.on(...)`, callbacks) is left for a human.
 */
export function poolReplacement(
  file: SourceFile,
  c: Classified,
  name: string,
  database: string,
  adapter: "pg" | "mysql2",
  exp: string,
  ts: boolean,
  ctx: AppContext,
): { text: string; described: string } | { fail: string; line: number } {
  const made = c.creations[0]!;
  if (adapter === "mysql2" && made.callbackApi && !/\.promise\(\)/.test(made.node.getParent()?.getParent()?.getText() ?? "")) {
    return { fail: "a pool of mysql2's callback API: its methods take callbacks and do not return promises, while createDatabase() hands out mysql2/promise's pool; move callers to (await database.connect()).db", line: made.node.getStartLineNumber() };
  }
  const exportNames = new Set<string>(exp ? [name] : []);
  const inExports: Node[] = [];
  for (const s of c.kept) {
    const t = s.getText();
    if (new RegExp(`^(export\\s+default|module\\.exports\\s*=)\\s*${name}\\s*;?$`).test(t)) exportNames.add("default"), inExports.push(s);
    const named = new RegExp(`^export\\s*\\{([^}]*)\\}`).exec(t);
    if (named) for (const part of named[1]!.split(",")) {
      const [local, as] = part.trim().split(/\s+as\s+/);
      if (local === name) exportNames.add(as ?? local), inExports.push(s);
    }
    const assign = new RegExp(`^(module\\.)?exports\\.(\\w+)\\s*=\\s*${name}\\s*;?$`).exec(t);
    if (assign) exportNames.add(assign[2]!), inExports.push(s);
  }

  const uses: Use[] = [];
  for (const s of c.kept) {
    if (inExports.includes(s)) continue;
    uses.push(...usesOfName(file, name, null).filter((u) => s.containsRange(u.node.getPos(), u.node.getEnd())));
  }
  for (const e of exportNames) {
    const found = usesOfExport(ctx.files, ctx.resolver, file, e);
    if (found.unknown.length > 0) {
      const u = found.unknown[0]!;
      return { fail: `${ctx.rel(u.getSourceFile())}:${u.getStartLineNumber()} imports this module in a way the codemod cannot follow (a namespace or dynamic import)`, line: made.node.getStartLineNumber() };
    }
    uses.push(...found.uses);
  }
  const allowed = FORWARDABLE[adapter];
  const bad = uses.find((u) => u.member === null || u.callback || !allowed.includes(u.member));
  if (bad) {
    const how = bad.member === null ? "uses the pool as a value" : bad.callback ? `calls ${name}.${bad.member}() with a callback` : `calls ${name}.${bad.member}()`;
    return {
      fail: `${ctx.rel(bad.file)}:${bad.node.getStartLineNumber()} ${how}; only ${allowed.map((m) => `${m}()`).join(", ")} without callbacks can be forwarded with the same results. Read the pool with (await ${database}.connect()).db there`,
      line: made.node.getStartLineNumber(),
    };
  }
  const members = [...new Set(uses.map((u) => u.member!))];
  if (members.length === 0) members.push("query");
  const cast = ts ? ` as Awaited<ReturnType<typeof ${database}.connect>>["db"]["M"]` : "";
  const lines = members.map((m) =>
    ts
      ? `  ${m}: ((...args: any[]) => ${database}.connect().then(({ db }) => (db as any).${m}(...args)))${cast.replace("M", m)},`
      : `  ${m}: (...args) => ${database}.connect().then(({ db }) => db.${m}(...args)),`,
  );
  return {
    text: `${exp}const ${name} = {\n${lines.join("\n")}\n};`,
    described: `${name} is now an object whose ${members.map((m) => `${m}()`).join(", ")} forward to ${database}'s one pool (every use in the app calls only ${members.length === 1 ? "that method" : "those methods"}, so each call still returns a promise of the same result)`,
  };
}
