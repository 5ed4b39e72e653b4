import { redact } from "./redact.js";

/**
 * A unified diff of one file, for --dry. Lines are compared by a longest
 * common subsequence (the files a codemod touches are small), with three
 * lines of context, and every printed line is redacted.
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  const a = before.split("\n");
  const b = after.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Op = { kind: " " | "-" | "+"; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", text: a[i]!, ai: i++, bi: j++ });
    // Deletions before insertions, as diff(1) prints them.
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: "-", text: a[i]!, ai: i++, bi: j });
    else ops.push({ kind: "+", text: b[j]!, ai: i, bi: j++ });
  }
  const out = [`--- a/${path}`, `+++ b/${path}`];
  const CONTEXT = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === " ") {
      k++;
      continue;
    }
    let start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend the hunk while the next change is within two contexts.
    for (let m = k; m < ops.length; m++) {
      if (ops[m]!.kind !== " ") end = m;
      else if (m - end > CONTEXT * 2) break;
    }
    end = Math.min(ops.length - 1, end + CONTEXT);
    const hunk = ops.slice(start, end + 1);
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${hunk[0]!.ai + 1},${aLen} +${hunk[0]!.bi + 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${redact(o.text)}`);
    k = end + 1;
    start = k;
  }
  return out.join("\n");
}
