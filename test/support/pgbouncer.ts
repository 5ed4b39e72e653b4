import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { chown, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import pg from "pg";
import { freePort } from "./postgres.js";
import { sleep } from "./wait.js";

/**
 * A real PgBouncer (Debian's `pgbouncer` package) of our own: its config,
 * auth file, port and log in a temporary folder. PgBouncer refuses to run as
 * root ("PgBouncer should not run as root"), so under root it runs as the
 * `postgres` OS user, which owns that folder.
 */
export interface Pgbouncer {
  port: number;
  /** postgres://<user>:<password>@127.0.0.1:<port>/<database> */
  url(database: string, user?: string): string;
  /** One query on the admin console (database `pgbouncer`): SHOW POOLS, SHOW STATS... */
  admin<T extends pg.QueryResultRow = pg.QueryResultRow>(command: string): Promise<T[]>;
  /** The tail of PgBouncer's own log. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface PgbouncerUser {
  name: string;
  /** Plain text in the auth file: PgBouncer uses it for SCRAM with the client and with the server. */
  password: string;
}

export interface PgbouncerOptions {
  binary: string;
  /** Where the server listens. */
  server: { host: string; port: number };
  /** PgBouncer database name → server database name and pool mode. */
  databases: Record<string, { dbname: string; poolMode: "transaction" | "session" }>;
  users: PgbouncerUser[];
  /** Server connections per (database, user) pool. */
  poolSize: number;
  maxClientConn?: number;
  /** Seconds a client may wait for a server connection before PgBouncer gives up on it. */
  queryWaitTimeout?: number;
  /** "scram-sha-256" (default) or "trust" (for a server with trust auth: no passwords anywhere). */
  authType?: "scram-sha-256" | "trust";
}

/** Where PgBouncer is, or why it cannot be used: the fleet scenarios print the reason and skip. */
export type PgbouncerLookup = { found: true; path: string } | { found: false; reason: string };

/** Where Debian installs it: not on a non-root user's PATH. */
const SBIN = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

/**
 * `NDC_PGBOUNCER` if set (a path; "" means "none"), else `pgbouncer` on PATH
 * or in the sbin folders.
 */
export function findPgbouncer(env: NodeJS.ProcessEnv = process.env, sbin: readonly string[] = SBIN): PgbouncerLookup {
  const explicit = env.NDC_PGBOUNCER;
  if (explicit !== undefined) {
    if (explicit !== "" && executable(explicit)) return { found: true, path: explicit };
    return { found: false, reason: `NDC_PGBOUNCER is set to ${explicit === "" ? "nothing" : `"${explicit}"`}, which is not an executable PgBouncer` };
  }
  const dirs = [...(env.PATH ?? "").split(delimiter).filter(Boolean), ...sbin];
  for (const dir of dirs) {
    const path = join(dir, "pgbouncer");
    if (executable(path)) return { found: true, path };
  }
  return { found: false, reason: "no pgbouncer binary on PATH or in /usr/sbin (Debian: apt-get install pgbouncer; .ci/run installs it)" };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function osUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** Values in the auth file are double-quoted; a quote inside is doubled. */
const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;

export async function startPgbouncer(o: PgbouncerOptions): Promise<Pgbouncer> {
  const dir = await mkdtemp(join(tmpdir(), "ndc-pgbouncer-"));
  const port = await freePort();
  const owner = osUser();
  const admin = o.users[0]!;
  const databases = Object.entries(o.databases).map(
    ([name, d]) => `${name} = host=${o.server.host} port=${o.server.port} dbname=${d.dbname} pool_mode=${d.poolMode}`,
  );
  const ini = [
    "[databases]",
    ...databases,
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    `auth_type = ${o.authType ?? "scram-sha-256"}`,
    `auth_file = ${join(dir, "users.txt")}`,
    `admin_users = ${admin.name}`,
    `stats_users = ${admin.name}`,
    `default_pool_size = ${o.poolSize}`,
    "min_pool_size = 0",
    "reserve_pool_size = 0",
    `max_client_conn = ${o.maxClientConn ?? 1000}`,
    `query_wait_timeout = ${o.queryWaitTimeout ?? 120}`,
    // The server is ours: no reconnect delays that would blur the figures.
    "server_login_retry = 1",
    `logfile = ${join(dir, "pgbouncer.log")}`,
    `pidfile = ${join(dir, "pgbouncer.pid")}`,
    "",
  ].join("\n");
  await writeFile(join(dir, "pgbouncer.ini"), ini);
  await writeFile(join(dir, "users.txt"), o.users.map((u) => `${quoted(u.name)} ${quoted(u.password)}`).join("\n") + "\n", { mode: 0o600 });
  if (owner) {
    for (const file of ["", "pgbouncer.ini", "users.txt"]) await chown(join(dir, file), owner.uid, owner.gid);
  }

  const child: ChildProcess = spawn(o.binary, [join(dir, "pgbouncer.ini")], {
    stdio: ["ignore", "ignore", "pipe"],
    ...(owner ?? {}),
  });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killAtExit = () => child.kill("SIGKILL");
  process.once("exit", killAtExit);

  const url = (database: string, user = admin.name) => {
    const u = o.users.find((x) => x.name === user) ?? admin;
    return `postgres://${encodeURIComponent(u.name)}:${encodeURIComponent(u.password)}@127.0.0.1:${port}/${database}`;
  };
  let adminConnection: pg.Client | null = null;
  const adminClient = async () => {
    if (adminConnection) return adminConnection;
    const c = new pg.Client({ connectionString: url("pgbouncer") });
    c.on("error", () => {
      if (adminConnection === c) adminConnection = null;
    });
    await c.connect();
    return (adminConnection = c);
  };

  // Listening once the admin console answers; that connection is closed again,
  // so that it never counts against a small max_client_conn.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = await readFile(join(dir, "pgbouncer.log"), "utf8").catch(() => "");
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer exited at start (${child.exitCode}): ${stderr}${log.slice(-2000)}`);
    }
    try {
      const probe = new pg.Client({ connectionString: url("pgbouncer") });
      probe.on("error", () => {});
      await probe.connect();
      await probe.end();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`pgbouncer did not answer within 20 s: ${(err as Error).message}`);
      }
      await sleep(50);
    }
  }

  return {
    port,
    url,
    async admin<T extends pg.QueryResultRow>(command: string) {
      // The admin console speaks the simple query protocol only: no parameters.
      return (await (await adminClient()).query<T>(command)).rows;
    },
    log: async () => (await readFile(join(dir, "pgbouncer.log"), "utf8").catch(() => "")).slice(-8000),
    async stop() {
      await adminConnection?.end().catch(() => {});
      adminConnection = null;
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener("exit", killAtExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
