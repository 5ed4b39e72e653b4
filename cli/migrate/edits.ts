import type { Node, SourceFile } from "ts-morph";

/** Text edits on one file, applied together so that positions stay those of the parsed text. */
export class Edits {
  private readonly list: { start: number; end: number; text: string }[] = [];
  constructor(readonly file: SourceFile) {}

  replace(start: number, end: number, text: string): void {
    this.list.push({ start, end, text });
  }

  insert(at: number, text: string): void {
    this.list.push({ start: at, end: at, text });
  }

  /** Removes a statement with its own line(s) and the comment lines glued to it. */
  removeStatement(node: Node, withComments = true): void {
    const [start, end] = statementRange(node, withComments);
    this.list.push({ start, end, text: "" });
  }

  get size(): number {
    return this.list.length;
  }

  apply(): string {
    const text = this.file.getFullText();
    // An insertion that falls inside a removed statement (after an import that is
    // itself dropped) goes where that statement began.
    for (const e of this.list) {
      if (e.start !== e.end) continue;
      const r = this.list.find((x) => x.text === "" && x.start < e.start && e.start <= x.end);
      if (r) {
        e.start = e.end = r.start;
        e.text = `${e.text.replace(/^\n/, "")}\n`;
      }
    }
    const sorted = [...this.list].sort((a, b) => a.start - b.start || a.end - b.end);
    let out = "";
    let at = 0;
    for (const e of sorted) {
      if (e.start < at) throw new Error(`overlapping edits in ${this.file.getBaseName()} at offset ${e.start}`);
      out += text.slice(at, e.start) + e.text;
      at = e.end;
      // A removed statement between two blank lines would leave two stacked: keep one.
      if (e.text === "" && e.start !== e.end && (out.endsWith("\n\n") || out.length === 0) && text[at] === "\n") at++;
    }
    out += text.slice(at);
    // A statement removed at the end of the file leaves the blank line that preceded it.
    return text.endsWith("\n") && !text.endsWith("\n\n") ? out.replace(/\n{2,}$/, "\n") : out;
  }
}

/**
 * From the start of the first comment line directly above the statement (no
 * blank line between) to the end of its last line, newline included.
 */
export function statementRange(node: Node, withComments = true): [number, number] {
  const text = node.getSourceFile().getFullText();
  let start = node.getStart();
  const lineStart = (pos: number) => text.lastIndexOf("\n", pos - 1) + 1;
  start = lineStart(start);
  for (; withComments; ) {
    if (start === 0) break;
    const prevStart = lineStart(start - 1);
    const prev = text.slice(prevStart, start - 1).trim();
    if (prev.startsWith("//") || prev.startsWith("/*") || prev.startsWith("*") || prev.endsWith("*/")) start = prevStart;
    else break;
  }
  let end = node.getEnd();
  const nl = text.indexOf("\n", end);
  const rest = nl === -1 ? text.slice(end) : text.slice(end, nl);
  // A trailing comment on the same line belongs to the statement.
  if (/^\s*(\/\/.*|\/\*.*\*\/\s*)?$/.test(rest)) end = nl === -1 ? text.length : nl + 1;
  return [start, end];
}
