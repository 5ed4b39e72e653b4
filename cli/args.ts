/** What the command line asked for. Parsing never touches the file system. */
export interface Options {
  command: "migrate" | "help" | "version";
  dir: string;
  check: boolean;
  dry: boolean;
  json: boolean;
  install: boolean;
}

export class UsageError extends Error {}

const FLAGS = new Set(["--check", "--dry", "--json", "--no-install", "--help", "-h", "--version", "-v"]);

export function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { command: "migrate", dir: ".", check: false, dry: false, json: false, install: true };
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg === "--help" || arg === "-h") return { ...opts, command: "help" };
    if (arg === "--version" || arg === "-v") return { ...opts, command: "version" };
    if (arg.startsWith("-")) {
      if (!FLAGS.has(arg)) throw new UsageError(`unknown option ${JSON.stringify(arg)} (see --help)`);
      if (arg === "--check") opts.check = true;
      if (arg === "--dry") opts.dry = true;
      if (arg === "--json") opts.json = true;
      if (arg === "--no-install") opts.install = false;
      continue;
    }
    positional.push(arg);
  }
  if (positional.length === 0) return { ...opts, command: "help" };
  if (positional[0] === "help") return { ...opts, command: "help" };
  if (positional[0] !== "migrate") throw new UsageError(`unknown command ${JSON.stringify(positional[0])}: the command is "migrate" (see --help)`);
  if (positional.length > 2) throw new UsageError(`migrate takes one folder, got ${positional.length - 1}`);
  if (opts.check && opts.dry) throw new UsageError("--check only reports; --dry prints the rewrite: choose one");
  return { ...opts, dir: positional[1] ?? "." };
}
