// The production-like targets: what a managed database a network hop away
// costs per connect. A private PostgreSQL and a private MariaDB of the bench's
// own (never the shared servers: these need server settings), each
// - requiring TLS, with a certificate made at start that clients verify in full;
// - authenticating with password hashing: SCRAM-SHA-256 (PostgreSQL, 4096
//   PBKDF2 iterations on both sides), mysql_native_password (MariaDB);
// - behind the TCP proxy of the tests in a process of its own, adding 1 ms to
//   every chunk each way (a round trip of at least 2 ms).
// The strategies and their counters are the local targets' (postgres.ts, mariadb.ts).
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { startPrivateMariadb, type PrivateMariadb } from "../../test/support/private-mariadb.js";
import { startPrivatePostgres, type PrivatePostgres } from "../../test/support/private-postgres.js";
import { makeCertificate, type Certificate } from "../lib/certificate.js";
import { startLatencyProxy, type LatencyProxy } from "../lib/latency-proxy.js";
import { mariadbStrategies } from "./mariadb.js";
import { postgresStrategies } from "./postgres.js";
import { TargetUnavailable, type DriverTarget } from "./target.js";

/** Added to every chunk, each way. */
export const LATENCY_MS = 1;
/** Enough for strategy a's cold burst (200 at once) on a server of its own. */
const MAX_CONNECTIONS = 300;
const APP_ROLE = "ndc_bench_app";

function network(tls: string, auth: string): string {
  return `${tls}, ${auth}, ${LATENCY_MS} ms added each way by a TCP proxy`;
}

export async function productionPostgresTarget(): Promise<DriverTarget> {
  let server: PrivatePostgres | null = null;
  let proxy: LatencyProxy | null = null;
  let cert: Certificate | null = null;
  const stop = async () => {
    await proxy?.stop().catch(() => {});
    await server?.destroy().catch(() => {});
  };
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  try {
    server = await startPrivatePostgres({ max_connections: String(MAX_CONNECTIONS), password_encryption: "scram-sha-256" }, {
      authMethod: "scram-sha-256",
      async prepare({ dataDir, owner }) {
        cert = await makeCertificate(dataDir);
        if (owner) for (const file of [cert.keyPath, cert.certPath]) await chown(file, owner.uid, owner.gid);
        await chmod(cert.keyPath, 0o600); // PostgreSQL refuses a key others can read
        // TLS and SCRAM or nothing, over TCP.
        await writeFile(join(dataDir, "pg_hba.conf"), [
          "local all all scram-sha-256",
          "hostssl all all 127.0.0.1/32 scram-sha-256",
          "hostnossl all all 127.0.0.1/32 reject",
          "",
        ].join("\n"));
        return { ssl: "on", ssl_cert_file: cert.certPath, ssl_key_file: cert.keyPath };
      },
    });
    proxy = await startLatencyProxy("127.0.0.1", server.port, LATENCY_MS);
  } catch (err) {
    await stop();
    throw new TargetUnavailable(`cannot start the production-like PostgreSQL (TLS, SCRAM, latency proxy): ${(err as Error).message.split("\n")[0]}`);
  }
  const tls = (url: URL) => {
    url.searchParams.set("sslmode", "verify-full");
    url.searchParams.set("sslrootcert", cert!.certPath);
    return url;
  };
  const adminUrl = tls(new URL(server.url)).toString();
  const { version, auth } = await provePostgres(adminUrl, password, proxy.port, tls);
  return postgresStrategies({
    network: "production",
    adminUrl,
    clientUrl: (database) => tls(new URL(`postgres://${APP_ROLE}:${password}@127.0.0.1:${proxy!.port}/${database}`)),
    describe: (v) => `PostgreSQL ${v}, private — ${network(version, auth)}`,
    shared: false,
    hint: "the private server did not answer",
    owner: APP_ROLE,
    onClose: stop,
  });
}

/**
 * Creates the app's role, and proves over the proxy what a connection really
 * negotiates (TLS version from pg_stat_ssl, the stored password's scheme),
 * so the report states what was measured, not what was configured.
 */
async function provePostgres(adminUrl: string, password: string, proxyPort: number, tls: (u: URL) => URL) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${password}'`);
    const stored = (await admin.query<{ scram: boolean }>("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = $1", [APP_ROLE])).rows[0]!;
    const client = new pg.Client({ connectionString: tls(new URL(`postgres://${APP_ROLE}:${password}@127.0.0.1:${proxyPort}/postgres`)).toString() });
    await client.connect();
    try {
      const ssl = (await client.query<{ ssl: boolean; version: string }>("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows[0]!;
      if (!ssl.ssl || !stored.scram) throw new Error(`the connection is not what the target claims (ssl ${ssl.ssl}, scram ${stored.scram})`);
      return { version: ssl.version, auth: "SCRAM-SHA-256" };
    } finally {
      await client.end();
    }
  } finally {
    await admin.end();
  }
}

export async function productionMariadbTarget(): Promise<DriverTarget> {
  let dir: string | null = null;
  let server: PrivateMariadb | null = null;
  let proxy: LatencyProxy | null = null;
  let admin: mysql.Pool | null = null;
  const stop = async () => {
    await admin?.end().catch(() => {});
    await proxy?.stop().catch(() => {});
    await server?.destroy().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  let cert: Certificate;
  try {
    dir = await mkdtemp(join(tmpdir(), "ndc-bench-tls-"));
    cert = await makeCertificate(dir);
    server = await startPrivateMariadb({ args: [`--ssl-cert=${cert.certPath}`, `--ssl-key=${cert.keyPath}`, `--max-connections=${MAX_CONNECTIONS}`] });
    proxy = await startLatencyProxy("127.0.0.1", server.port, LATENCY_MS);
    admin = mysql.createPool({ uri: server.url, connectionLimit: 2 });
  } catch (err) {
    await stop();
    throw new TargetUnavailable(`cannot start the production-like MariaDB (TLS, latency proxy): ${(err as Error).message.split("\n")[0]}`);
  }
  const ssl = encodeURIComponent(JSON.stringify({ ca: cert.pem }));
  const userUrl = (user: string, password: string) =>
    `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${proxy!.port}/test?ssl=${ssl}`;
  const query = async (sql: string, params: unknown[] = []) => (await admin!.query(sql, params))[0] as unknown[];
  const target = await mariadbStrategies({
    network: "production",
    admin: { query, close: async () => {} },
    database: "test",
    userUrl,
    // A user that may only connect over TLS (the shared admin stays on plain TCP, outside the measurement).
    requirement: "REQUIRE SSL",
    describe: (flavour, version) => `${flavour} ${version}, private — ${network("TLS", "mysql_native_password")}`,
    shared: false,
    hint: "the private server did not answer",
    onClose: stop,
  });
  try {
    const tlsVersion = await proveMariadb(target.env, query);
    target.server = target.server.replace(", TLS,", `, ${tlsVersion},`);
  } catch (err) {
    await target.close();
    throw new TargetUnavailable(`the production-like MariaDB is not what it claims: ${(err as Error).message}`);
  }
  return target;
}

/** One strategy user's connection, over the proxy: TLS in use, and the password plugin its account has. */
async function proveMariadb(env: Record<string, string>, query: (sql: string, params?: unknown[]) => Promise<unknown[]>): Promise<string> {
  const url = Object.values(env)[0]!;
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await connection.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
    const version = String((rows as Array<{ Value: string }>)[0]?.Value ?? "");
    const user = decodeURIComponent(new URL(url).username);
    const plugin = String(((await query("SELECT plugin FROM mysql.user WHERE User = ? LIMIT 1", [user])) as Array<{ plugin: string }>)[0]?.plugin);
    if (!version.startsWith("TLS") || plugin !== "mysql_native_password") throw new Error(`Ssl_version "${version}", plugin "${plugin}"`);
    return version;
  } finally {
    await connection.end();
  }
}
