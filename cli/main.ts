import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, UsageError, type Options } from "./args.js";
import { InputError } from "./files.js";
import { HELP } from "./help.js";
import { GeneratedCodeError } from "./migrate/index.js";
import { loadParser, runWithParser, VERSION } from "./parser.js";
import { redact } from "./redact.js";
import { run, type Io } from "./run.js";

export type { Io };

/** `next-db-connect migrate [dir] [--check] [--dry] [--json] [--no-install]`; see help.ts for exit codes. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`next-db-connect: ${err.message}`);
    return 2;
  }
  if (opts.command === "help") return io.out(HELP), 0;
  if (opts.command === "version") return io.out(VERSION), 0;

  const root = resolve(opts.dir);
  // Bad input is said before anything is fetched.
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    io.err(`next-db-connect: no such folder: ${opts.dir}`);
    return 2;
  }
  if (!isDir) {
    io.err(`next-db-connect: not a folder: ${opts.dir}`);
    return 2;
  }
  if (!(await loadParser(root))) return runWithParser(argv, opts.install, io.err);
  try {
    return run(opts, root, io);
  } catch (err) {
    if (err instanceof InputError || err instanceof GeneratedCodeError) {
      io.err(`next-db-connect: ${redact(err.message)}`);
      return 2;
    }
    throw err;
  }
}

