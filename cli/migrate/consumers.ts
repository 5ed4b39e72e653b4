import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Node, SourceFile } from "ts-morph";
import { requireSpecifier } from "../ast.js";
import { Morph, SK } from "../parser.js";

const EXTS = [".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"];

/** Resolves import specifiers of the app's own files: relative paths and tsconfig/jsconfig `paths` (`@/lib/db`). */
export class ModuleResolver {
  private readonly aliases: { prefix: string; targets: string[] }[] = [];
  constructor(
    root: string,
    private readonly files: Map<string, SourceFile>,
  ) {
    for (const name of ["tsconfig.json", "jsconfig.json"]) {
      const path = join(root, name);
      if (!existsSync(path)) continue;
      const parsed = Morph.ts.parseConfigFileTextToJson(path, readFileSync(path, "utf8")).config as { compilerOptions?: { baseUrl?: string; paths?: Record<string, string[]> } } | undefined;
      const base = resolve(root, parsed?.compilerOptions?.baseUrl ?? ".");
      for (const [pattern, targets] of Object.entries(parsed?.compilerOptions?.paths ?? {})) {
        this.aliases.push({ prefix: pattern.replace(/\*$/, ""), targets: targets.map((t) => resolve(base, t.replace(/\*$/, ""))) });
      }
      break;
    }
  }

  resolve(from: SourceFile, specifier: string): SourceFile | undefined {
    const bases: string[] = [];
    if (specifier.startsWith(".")) bases.push(resolve(dirname(from.getFilePath()), specifier));
    else for (const a of this.aliases) if (specifier.startsWith(a.prefix)) for (const t of a.targets) bases.push(join(t, specifier.slice(a.prefix.length)));
    for (const base of bases) {
      const stem = base.replace(/\.(m|c)?js$/, "");
      for (const candidate of [base, ...EXTS.map((e) => stem + e), ...EXTS.map((e) => join(base, `index${e}`))]) {
        const hit = this.files.get(candidate);
        if (hit) return hit;
      }
    }
    return undefined;
  }
}

/** Where another file reads one export of the database module. */
export interface Use {
  file: SourceFile;
  node: Node;
  /** The member called (`query` in `pool.query(...)`), or null for any other use. */
  member: string | null;
  /** True when a function is passed (callback style). */
  callback: boolean;
}

/**
 * Every use, in other files, of `exportName` ("default" for the default
 * export / module.exports) of `target`. `unknown` collects the imports this
 * cannot follow (namespace objects passed around, dynamic imports).
 */
export function usesOfExport(files: SourceFile[], resolver: ModuleResolver, target: SourceFile, exportName: string): { uses: Use[]; unknown: Node[] } {
  const uses: Use[] = [];
  const unknown: Node[] = [];
  for (const file of files) {
    if (file === target) continue;
    for (const imp of file.getImportDeclarations()) {
      if (resolver.resolve(file, imp.getModuleSpecifierValue()) !== target) continue;
      if (exportName === "default" && imp.getDefaultImport()) uses.push(...usesOfName(file, imp.getDefaultImport()!.getText(), imp));
      for (const n of imp.getNamedImports()) if (n.getName() === exportName) uses.push(...usesOfName(file, (n.getAliasNode() ?? n.getNameNode()).getText(), imp));
      if (imp.getNamespaceImport()) unknown.push(imp);
    }
    for (const call of file.getDescendantsOfKind(SK.CallExpression)) {
      const spec = requireSpecifier(call);
      if (!spec || resolver.resolve(file, spec) !== target) continue;
      const parent = call.getParent();
      if (parent && Morph.Node.isVariableDeclaration(parent)) {
        const name = parent.getNameNode();
        if (Morph.Node.isIdentifier(name) && exportName === "default") uses.push(...usesOfName(file, name.getText(), parent));
        else if (Morph.Node.isIdentifier(name)) {
          // const db = require("./db"); db.pool.query(...)
          for (const u of usesOfName(file, name.getText(), parent)) {
            const pa = u.node.getParent();
            if (pa && Morph.Node.isPropertyAccessExpression(pa) && pa.getName() === exportName) uses.push(useOf(file, pa));
          }
        } else if (Morph.Node.isObjectBindingPattern(name)) {
          for (const el of name.getElements()) if ((el.getPropertyNameNode() ?? el.getNameNode()).getText() === exportName) uses.push(...usesOfName(file, el.getName(), parent));
        }
      } else if (parent && Morph.Node.isPropertyAccessExpression(parent) && parent.getName() === exportName) {
        uses.push(useOf(file, parent));
      } else unknown.push(call);
    }
    for (const call of file.getDescendantsOfKind(SK.ImportKeyword)) {
      const c = call.getParent();
      if (c && Morph.Node.isCallExpression(c)) {
        const arg = c.getArguments()[0];
        if (arg && Morph.Node.isStringLiteral(arg) && resolver.resolve(file, arg.getLiteralValue()) === target) unknown.push(c);
      }
    }
  }
  return { uses, unknown };
}

/** Reads of `name` in `file`, outside `declaration` (the import or require that binds it), if given. */
export function usesOfName(file: SourceFile, name: string, declaration: Node | null): Use[] {
  const uses: Use[] = [];
  for (const id of file.getDescendantsOfKind(SK.Identifier)) {
    if (id.getText() !== name || declaration?.containsRange(id.getPos(), id.getEnd())) continue;
    // `import { pool as p2 }` names the export; it is not a read of the local `pool`.
    if (id.getFirstAncestorByKind(SK.ImportDeclaration)) continue;
    const p = id.getParent();
    if (p && Morph.Node.isPropertyAccessExpression(p) && p.getNameNode() === id) continue;
    if (p && Morph.Node.isPropertyAssignment(p) && p.getNameNode() === id) continue;
    uses.push(useOf(file, id));
  }
  return uses;
}

function useOf(file: SourceFile, node: Node): Use {
  const p = node.getParent();
  const gp = p?.getParent();
  if (p && Morph.Node.isPropertyAccessExpression(p) && p.getExpression() === node && gp && Morph.Node.isCallExpression(gp) && gp.getExpression() === p) {
    const callback = gp.getArguments().some((a) => Morph.Node.isArrowFunction(a) || Morph.Node.isFunctionExpression(a) || (Morph.Node.isIdentifier(a) && /^(cb|callback|done)$/.test(a.getText())));
    return { file, node, member: p.getName(), callback };
  }
  return { file, node, member: null, callback: false };
}
