// `npm run example` (production: next build, then next start) and
// `npm run example:dev` (next dev), from the repository root.
//
// With none of DATABASE_URL, MYSQL_URL, MONGODB_URI set, it starts an embedded
// PostgreSQL in a temporary folder (schema and seed rows included) and gives
// its URL to the app; Ctrl-C or SIGTERM stops the app, then the database, and
// removes the folder. PORT chooses the port (default 3000).
import { linkLocalPackage } from "../../scripts/link-local-package.mjs";
import { startEmbeddedPostgres } from "./embedded-postgres.mjs";
import { appDir, runNext, startNext, waitForHttp } from "./next-process.mjs";
import { safeTarget } from "./safe-target.mjs";

const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT || 3000);
const say = (line) => console.log(`[example] ${line}`);

let database = null; // the embedded PostgreSQL, when we started one
let next = null;
let shuttingDown = false;

// embedded-postgres also stops its servers on SIGINT/SIGTERM and then exits the
// process; whatever happens first, no next-server and no data folder survive us.
process.on("exit", () => {
  if (next?.child.pid) {
    try {
      process.kill(-next.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  say("stopping…");
  await next?.stop().catch(() => {});
  if (database) {
    await database.destroy().catch(() => {});
    say("embedded PostgreSQL stopped, its data folder removed");
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

function chooseDatabase(env) {
  if (env.DATABASE_URL) return { label: `PostgreSQL at ${safeTarget(env.DATABASE_URL)}`, embedded: false };
  if (env.MYSQL_URL) return { label: `MySQL at ${safeTarget(env.MYSQL_URL)}`, embedded: false };
  if (env.MONGODB_URI) {
    const db = env.MONGODB_DB ? ` (database ${env.MONGODB_DB})` : "";
    return { label: `MongoDB at ${safeTarget(env.MONGODB_URI)}${db}`, embedded: false };
  }
  return { label: "", embedded: true };
}

async function main() {
  linkLocalPackage(appDir);
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", PORT: String(port) };
  const choice = chooseDatabase(env);
  if (choice.embedded) {
    say("no DATABASE_URL, MYSQL_URL or MONGODB_URI: starting an embedded PostgreSQL…");
    database = await startEmbeddedPostgres();
    env.DATABASE_URL = database.url;
    choice.label = `embedded PostgreSQL at 127.0.0.1:${database.port}/notes (data in ${database.dir}, removed on exit)`;
  }

  if (!dev) {
    say("building (next build)…");
    await runNext(["build"], { env });
  }
  next = startNext([dev ? "dev" : "start", "-p", String(port)], { env, echo: dev });
  next.exited.then((code) => {
    if (!shuttingDown) {
      console.error(next.output().slice(-4000));
      say(`next exited (${code})`);
      void shutdown(1);
    }
  });
  const url = `http://localhost:${port}`;
  await waitForHttp(`${url}/api/health`, next);
  if (!dev) next.child.stdout.pipe(process.stdout), next.child.stderr.pipe(process.stderr);
  say(`${url} (${dev ? "next dev" : "production: next start"}) on ${choice.label}. Pool status: ${url}/status. Ctrl-C to stop.`);
}

main().catch((err) => {
  console.error(`[example] ${err.message}`);
  void shutdown(1);
});
