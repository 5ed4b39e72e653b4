// PostgreSQL: every strategy gets its own database (created here, dropped at
// the end) and application_name. `pg_stat_database.sessions` of that database
// counts every connection ever opened to it, including the short-lived ones
// of strategy a that no sampling of pg_stat_activity would catch.
import pg from "pg";
import { STRATEGIES, urlVariable, type Network, type StrategyId } from "../strategies.js";
import { sleep } from "../lib/stats.js";
import { isAlive, TargetUnavailable, type DriverTarget } from "./target.js";

export const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/test";
const PREFIX = "ndc_bench_";

export function postgresTarget(): Promise<DriverTarget> {
  const base = process.env.DATABASE_URL ?? LOCAL_URL;
  return postgresStrategies({
    network: "local",
    adminUrl: base,
    clientUrl: (database) => {
      const url = new URL(base);
      url.pathname = `/${database}`;
      return url;
    },
    describe: (version) => `PostgreSQL ${version}`,
    shared: true,
    hint: "set DATABASE_URL",
  });
}

export interface PostgresSetup {
  network: Network;
  /** A superuser's URL, straight to the server: creates and drops the strategies' databases, reads the counters. */
  adminUrl: string;
  /** The URL the app connects to for one of the strategies' databases (application_name is added). */
  clientUrl(database: string): URL;
  /** The server line of the report, from `SHOW server_version`. */
  describe(version: string): string;
  shared: boolean;
  hint: string;
  /** Runs after the databases are dropped. */
  onClose?(): Promise<void>;
  /** The app's owner of the databases; default: the admin's user. */
  owner?: string;
}

export async function postgresStrategies(s: PostgresSetup): Promise<DriverTarget> {
  const admin = new pg.Pool({ connectionString: s.adminUrl, max: 2, application_name: "ndc_bench_admin", connectionTimeoutMillis: 5000 });
  admin.on("error", () => {});
  let version: string;
  try {
    version = (await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
  } catch (err) {
    await admin.end().catch(() => {});
    throw new TargetUnavailable(`PostgreSQL not reachable (${(err as { code?: string }).code ?? (err as Error).message}); ${s.hint}`);
  }
  await dropStale(admin);

  const databases = new Map<StrategyId, string>();
  const env: Record<string, string> = {};
  try {
    for (const { id } of STRATEGIES) {
      const name = `${PREFIX}${process.pid}_${id.replace("-", "_")}`;
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}${s.owner ? ` OWNER ${s.owner}` : ""}`);
      databases.set(id, name);
      const url = s.clientUrl(name);
      url.searchParams.set("application_name", `${PREFIX}${id}`);
      env[urlVariable("pg", id)] = url.toString();
    }
  } catch (err) {
    await dropAll(admin, databases.values());
    await admin.end().catch(() => {});
    throw new TargetUnavailable(`cannot create the bench databases on PostgreSQL (${(err as { code?: string }).code ?? "error"})`);
  }

  const count = async (sql: string, database: string) => Number((await admin.query<{ n: string }>(sql, [database])).rows[0]?.n ?? 0);
  return {
    driver: "pg",
    network: s.network,
    server: s.describe(version),
    openedMethod: "pg_stat_database.sessions of a database per strategy",
    openedExact: true,
    shared: s.shared,
    extraConnections: 0,
    env,
    identity: (strategy) => `${PREFIX}${strategy}`,
    counter(strategy) {
      const database = databases.get(strategy)!;
      return {
        opened: () => count("SELECT sessions AS n FROM pg_stat_database WHERE datname = $1", database),
        current: () => count("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1", database),
      };
    },
    // A backend reports its session to the statistics when it exits or has
    // been idle for about a second.
    settle: () => sleep(1500),
    async close() {
      await dropAll(admin, databases.values());
      await admin.end().catch(() => {});
      await s.onClose?.();
    },
  };
}

async function dropAll(admin: pg.Pool, names: Iterable<string>): Promise<void> {
  for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
}

/** Databases left by a bench run that was killed: their pid is in the name. */
async function dropStale(admin: pg.Pool): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'ndc\\_bench\\_%'");
  for (const { datname } of rows) {
    const pid = Number(/^ndc_bench_(\d+)_/.exec(datname)?.[1]);
    if (pid && !isAlive(pid)) await dropAll(admin, [datname]);
  }
}
