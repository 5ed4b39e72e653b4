import { PARSER_RANGE, VERSION } from "./parser.js";

export const HELP = `next-db-connect migrate [dir] [options]   (next-db-connect ${VERSION})

Rewrites the usual hand-written database code of a Next.js app (next-connect
req.db middleware, connectToDatabase()/clientPromise helpers, NODE_ENV-guarded
globalThis singletons, module-scope pools) into createDatabase(...) from
next-db-connect, and reports what it changed and what it left for a human.
dir defaults to the current folder; node_modules, .next and build output are skipped.

Options
  --check       Only report the anti-patterns it finds; write nothing.
  --dry         Print the rewrite as a diff; write nothing.
  --json        Print the report as JSON (one object) instead of text.
  --no-install  If the parser (ts-morph) is missing, print the npx command
                instead of running it.
  -h, --help    This text.
  -v, --version The version.

What --check looks for (each with file and line)
  per-request-client       new Pool(), new MongoClient(), MongoClient.connect(),
                           mysql.createConnection()/createPool() inside a handler
                           or middleware: a new pool for every request
  checkout-without-release await pool.connect()/getConnection() whose client is
                           not released in a finally block
  node-env-singleton       a globalThis singleton guarded by NODE_ENV: one pool
                           per Next.js bundle in production
  cached-rejection         a connect promise kept in a cache that is never
                           cleared on failure: one failed connect fails every
                           later request until restart
  is-connected             client.isConnected(): removed in MongoDB driver 4

Output
  Text: for each file, what was found (with line), what was changed, and what
  was left for a human and why. No value from the environment and no URL or
  password written in the code is ever printed; --dry masks them in the diff.

Exit codes
  0  migrate: done (read the report for what was left for a human);
     --check: nothing found
  1  --check: at least one anti-pattern found
  2  bad input: unknown option, no such folder, a file that does not parse
     (nothing is written then)
  3  the parser ts-morph is missing and was not fetched (--no-install, or npx
     failed); the message gives the one-line npx command to run
  70 an internal error of the codemod

When ts-morph cannot be found (beside next-db-connect or in the app), the CLI
runs itself again through
  npx --yes -p ts-morph@${PARSER_RANGE} -p next-db-connect@${VERSION} next-db-connect migrate ...
which fetches the parser into npx's cache without adding it to the app.
`;
