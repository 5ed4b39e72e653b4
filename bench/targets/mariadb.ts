// MariaDB/MySQL: every strategy connects as its own user, so the processlist
// shows its open connections. MariaDB keeps no per-user total without
// performance_schema or userstat (both off here, and global settings are not
// ours to change), so connections opened come from the server-wide
// `Connections` status: a difference over one strategy's windows, which also
// holds whatever other clients opened meanwhile (an upper bound).
import { closeMysqlAdmin, mysqlAdminQuery, mysqlUrl } from "../../test/support/mysql.js";
import { STRATEGIES, urlVariable, type Network, type StrategyId } from "../strategies.js";
import { sleep } from "../lib/stats.js";
import { isAlive, TargetUnavailable, type DriverTarget } from "./target.js";

export function mariadbTarget(): Promise<DriverTarget> {
  const database = new URL(mysqlUrl()).pathname.slice(1) || "test";
  return mariadbStrategies({
    network: "local",
    admin: { query: mysqlAdminQuery, close: closeMysqlAdmin },
    database,
    userUrl: (user, password) => {
      const url = new URL(mysqlUrl());
      url.username = user;
      url.password = encodeURIComponent(password);
      return url.toString();
    },
    describe: (flavour, version) => `${flavour} ${version}`,
    shared: true,
    hint: "set MYSQL_URL",
  });
}

export interface MysqlAdmin {
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface MariadbSetup {
  network: Network;
  admin: MysqlAdmin;
  /** The database every strategy's user is granted. */
  database: string;
  /** The URL a strategy's user connects with. */
  userUrl(user: string, password: string): string;
  describe(flavour: string, version: string): string;
  shared: boolean;
  hint: string;
  /** Appended to CREATE USER, e.g. "REQUIRE SSL". */
  requirement?: string;
  onClose?(): Promise<void>;
}

export async function mariadbStrategies(s: MariadbSetup): Promise<DriverTarget> {
  let version: string;
  try {
    const rows = (await s.admin.query("SELECT VERSION() AS v")) as Array<{ v: string }>;
    version = rows[0]!.v;
  } catch (err) {
    await s.admin.close().catch(() => {});
    throw new TargetUnavailable(`MySQL/MariaDB not reachable (${(err as { code?: string }).code ?? "error"}); ${s.hint}`);
  }
  await dropStale(s.admin);

  const users = new Map<StrategyId, string>();
  const env: Record<string, string> = {};
  const drop = async (user: string) => {
    const rows = (await s.admin.query("SELECT ID AS id FROM information_schema.processlist WHERE USER = ?", [user])) as Array<{ id: number }>;
    for (const { id } of rows) await s.admin.query(`KILL ${Number(id)}`).catch(() => {});
    for (const host of ["%", "localhost"]) await s.admin.query("DROP USER IF EXISTS ?@?", [user, host]);
  };
  try {
    for (const { id } of STRATEGIES) {
      const user = `ndcb${process.pid}_${id.replace("-", "")}_${Math.random().toString(36).slice(2, 6)}`.slice(0, 32);
      const password = `pw_${Math.random().toString(36).slice(2, 12)}`;
      for (const host of ["%", "localhost"]) {
        await s.admin.query(`CREATE USER ?@? IDENTIFIED BY ?${s.requirement ? ` ${s.requirement}` : ""}`, [user, host, password]);
        await s.admin.query(`GRANT ALL ON \`${s.database}\`.* TO ?@?`, [user, host]);
      }
      users.set(id, user);
      env[urlVariable("mysql2", id)] = s.userUrl(user, password);
    }
  } catch (err) {
    for (const user of users.values()) await drop(user).catch(() => {});
    await s.admin.close().catch(() => {});
    throw new TargetUnavailable(`cannot create the bench users on MariaDB (${(err as { code?: string }).code ?? "error"})`);
  }

  const serverConnections = async () => {
    const rows = (await s.admin.query("SHOW GLOBAL STATUS LIKE 'Connections'")) as Array<{ Value: string }>;
    return Number(rows[0]?.Value ?? 0);
  };
  const current = async (user: string) => {
    const rows = (await s.admin.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = ?", [user])) as Array<{ n: number }>;
    return Number(rows[0]?.n ?? 0);
  };
  const flavour = /mariadb/i.test(version) ? "MariaDB" : "MySQL";
  return {
    driver: "mysql2",
    network: s.network,
    server: s.describe(flavour, version),
    openedMethod: "server-wide Connections status, difference over the strategy's windows (upper bound)",
    openedExact: false,
    shared: s.shared,
    extraConnections: 0,
    env,
    identity: (strategy) => users.get(strategy)!,
    counter(strategy) {
      const user = users.get(strategy)!;
      return { opened: serverConnections, current: () => current(user) };
    },
    settle: () => sleep(300),
    async close() {
      for (const user of users.values()) await drop(user).catch(() => {});
      await s.admin.close().catch(() => {});
      await s.onClose?.();
    },
  };
}

/** Users left by a bench run that was killed: their pid is in the name. */
async function dropStale(admin: MysqlAdmin): Promise<void> {
  const rows = (await admin.query("SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE 'ndcb%'")) as Array<{ u: string; h: string }>;
  for (const { u, h } of rows) {
    const pid = Number(/^ndcb(\d+)_/.exec(u)?.[1]);
    if (pid && !isAlive(pid)) await admin.query("DROP USER IF EXISTS ?@?", [u, h]).catch(() => {});
  }
}
