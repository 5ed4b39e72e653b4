/**
 * What the CLI tells the user. Entries hold descriptions written by the
 * codemod itself, never code or values taken from the app, so a report cannot
 * leak a URL or a password that sits in the code.
 */
export interface Finding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

export interface LeftItem {
  line: number;
  what: string;
  why: string;
}

export interface FileReport {
  file: string;
  found: { pattern: string; line: number }[];
  changed: string[];
  left: LeftItem[];
}

export class Report {
  private readonly byFile = new Map<string, FileReport>();

  entry(file: string): FileReport {
    let e = this.byFile.get(file);
    if (!e) this.byFile.set(file, (e = { file, found: [], changed: [], left: [] }));
    return e;
  }

  found(file: string, pattern: string, line: number): void {
    this.entry(file).found.push({ pattern, line });
  }

  changed(file: string, what: string): void {
    this.entry(file).changed.push(what);
  }

  left(file: string, line: number, what: string, why: string): void {
    const e = this.entry(file);
    if (!e.left.some((l) => l.line === line && l.what === what)) e.left.push({ line, what, why });
  }

  files(): FileReport[] {
    return [...this.byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
  }
}

export function formatMigrate(report: Report, mode: "write" | "dry"): string {
  const files = report.files();
  const lines: string[] = [];
  for (const f of files) {
    lines.push(f.file);
    for (const p of f.found) lines.push(`  found    ${p.pattern} (line ${p.line})`);
    for (const c of f.changed) lines.push(`  changed  ${c}`);
    for (const l of f.left) lines.push(`  left     line ${l.line}: ${l.what}. Why: ${l.why}`);
    lines.push("");
  }
  const changed = files.filter((f) => f.changed.length > 0).length;
  const left = files.reduce((n, f) => n + f.left.length, 0);
  const verb = mode === "dry" ? "would change" : "changed";
  lines.push(`${verb} ${changed} file${changed === 1 ? "" : "s"}; ${left} item${left === 1 ? "" : "s"} left for a human.`);
  return lines.join("\n");
}

export function formatCheck(findings: Finding[], scanned: number): string {
  const lines = findings.map((f) => `${f.file}:${f.line}  ${f.rule}  ${f.message}`);
  lines.push(
    findings.length === 0
      ? `no anti-pattern found in ${scanned} file${scanned === 1 ? "" : "s"}.`
      : `${findings.length} anti-pattern${findings.length === 1 ? "" : "s"} found in ${new Set(findings.map((f) => f.file)).size} file(s); \`next-db-connect migrate\` rewrites the ones it can.`,
  );
  return lines.join("\n");
}
