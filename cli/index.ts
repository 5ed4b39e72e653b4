// The bin: next-db-connect migrate ... (see main.ts and help.ts).
import { main, type Io } from "./main.js";
import { redact } from "./redact.js";

// `next-db-connect migrate --dry | head`: a reader that stops early is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const io: Io = { out: (t) => void process.stdout.write(`${t}\n`), err: (t) => void process.stderr.write(`${t}\n`) };
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Masked like everything else printed: a parser message may quote code.
    io.err(`next-db-connect: internal error: ${redact(err instanceof Error ? err.message : String(err))}`);
    process.exitCode = 70;
  },
);
