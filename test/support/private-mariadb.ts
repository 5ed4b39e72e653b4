import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { freePort } from "./postgres.js";
import { sleep } from "./wait.js";

const run = promisify(execFile);

/**
 * A MariaDB server of our own (the shared one on 3306 must never be
 * restarted): a datadir made by `mariadb-install-db`, a `mariadbd` on its own
 * port and socket. `stop()` is a real server shutdown (SIGTERM, what systemd
 * sends), `start()` a real start on the same datadir and port.
 */
export interface PrivateMariadb {
  port: number;
  /** The server's own folder: room for certificates. */
  dir: string;
  /** mysql://root@127.0.0.1:<port>/test */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface PrivateMariadbOptions {
  /**
   * More server options, after the defaults (the last of a repeated option
   * wins): TLS files, `--max-user-connections=50` (a variable that is 0 at
   * start-up cannot be set later).
   */
  args?: string[];
}

export async function startPrivateMariadb(o: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const root = await mkdtemp(join(tmpdir(), "ndc-private-mariadb-"));
  const dataDir = join(root, "data");
  const port = await freePort();
  await run("mariadb-install-db", [
    "--no-defaults", `--datadir=${dataDir}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db",
  ], { timeout: 60_000 });
  let server: ChildProcess | null = null;
  const url = `mysql://root@127.0.0.1:${port}/test`;

  const handle: PrivateMariadb = {
    port,
    dir: root,
    url,
    async start() {
      const child = spawn("mariadbd", [
        "--no-defaults", `--datadir=${dataDir}`, `--port=${port}`, `--socket=${join(root, "mariadb.sock")}`,
        "--user=root", "--bind-address=127.0.0.1", `--pid-file=${join(root, "mariadb.pid")}`,
        `--log-error=${join(root, "error.log")}`, "--skip-log-bin", "--innodb-buffer-pool-size=16M",
        "--max-connections=80", ...(o.args ?? []),
      ], { stdio: "ignore" });
      server = child;
      child.once("exit", () => {
        if (server === child) server = null;
      });
      await untilReachable(url, 30_000);
      await adminQuery(url.replace(/\/test$/, "/"), "CREATE DATABASE IF NOT EXISTS test");
    },
    async stop() {
      const child = server;
      if (!child) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
    },
    async destroy() {
      await handle.stop().catch(() => server?.kill("SIGKILL"));
      await rm(root, { recursive: true, force: true });
    },
  };
  process.once("exit", () => server?.kill("SIGKILL"));
  await handle.start();
  return handle;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = await mysql.createConnection({ uri: url });
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function untilReachable(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await adminQuery(url.replace(/\/test$/, "/"), "SELECT 1");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** Threads the private server sees for a user (never asks the code under test). */
export async function privateMysqlCount(url: string, user: string): Promise<number> {
  const c = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await c.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = ?", [user]);
    return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}
