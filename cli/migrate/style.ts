import type { SourceFile } from "ts-morph";
import { Morph, SK } from "../parser.js";

/** How the file writes code, so generated lines look like their neighbours. */
export interface Style {
  syntax: "esm" | "cjs";
  ts: boolean;
  quote: '"' | "'";
  semi: boolean;
  indent: string;
}

export function styleOf(file: SourceFile): Style {
  const text = file.getFullText();
  const esm = file.getImportDeclarations().length > 0 || /^\s*export\s/m.test(text);
  const cjs = /\b(module\.exports|exports\.\w+)\s*=|\brequire\(\s*["']/.test(text);
  const strings = file.getDescendantsOfKind(SK.StringLiteral).map((s) => s.getText()[0]);
  const single = strings.filter((q) => q === "'").length;
  const statements = file.getStatements().filter((s) => !Morph.Node.isFunctionDeclaration(s) && !Morph.Node.isIfStatement(s) && !Morph.Node.isBlock(s) && !Morph.Node.isModuleDeclaration(s) && !Morph.Node.isClassDeclaration(s));
  const withSemi = statements.filter((s) => s.getText().trimEnd().endsWith(";")).length;
  const indentMatch = /\n( +|\t)\S/.exec(text);
  const ext = file.getExtension();
  return {
    syntax: esm || !cjs ? "esm" : "cjs",
    ts: ext === ".ts" || ext === ".tsx" || ext === ".mts" || ext === ".cts",
    quote: single > strings.length - single ? "'" : '"',
    semi: statements.length === 0 || withSemi * 2 >= statements.length,
    indent: indentMatch?.[1] === "\t" ? "\t" : indentMatch && indentMatch[1]!.length >= 4 ? "    " : "  ",
  };
}

/** Writes generated code (double quotes, semicolons, two spaces) in the file's style. */
export function styled(code: string, style: Style): string {
  let out = code;
  if (style.quote === "'") out = out.replace(/"([^"'\\\n]*)"/g, "'$1'");
  if (!style.semi) out = out.replace(/;(\n|$)/g, "$1");
  if (style.indent !== "  ") out = out.replace(/^((?: {2})+)/gm, (m) => style.indent.repeat(m.length / 2));
  return out;
}
