// MariaDB/MySQL: every strategy connects as its own user, so the processlist
// shows its open connections. MariaDB keeps no per-user total without
// performance_schema or userstat (both off here, and global settings are not
// ours to change), so connections opened come from the server-wide
// `Connections` status: a difference over one strategy's windows, which also
// holds whatever other clients opened meanwhile (an upper bound).
import { createMysqlUser, closeMysqlAdmin, mysqlAdminQuery, mysqlConnectionCount, type MysqlTestUser } from "../../test/support/mysql.js";
import { STRATEGIES, urlVariable, type StrategyId } from "../strategies.js";
import { sleep } from "../lib/stats.js";
import { isAlive, TargetUnavailable, type DriverTarget } from "./target.js";

export async function mariadbTarget(): Promise<DriverTarget> {
  let version: string;
  try {
    const rows = (await mysqlAdminQuery("SELECT VERSION() AS v")) as Array<{ v: string }>;
    version = rows[0]!.v;
  } catch (err) {
    await closeMysqlAdmin().catch(() => {});
    throw new TargetUnavailable(`MySQL/MariaDB not reachable (${(err as { code?: string }).code ?? "error"}); set MYSQL_URL`);
  }
  await dropStale();

  const users = new Map<StrategyId, MysqlTestUser>();
  const env: Record<string, string> = {};
  try {
    for (const { id } of STRATEGIES) {
      const user = await createMysqlUser(`ndcb${process.pid}_${id.replace("-", "")}`);
      users.set(id, user);
      env[urlVariable("mysql2", id)] = user.url;
    }
  } catch (err) {
    for (const user of users.values()) await user.drop().catch(() => {});
    await closeMysqlAdmin().catch(() => {});
    throw new TargetUnavailable(`cannot create the bench users on MariaDB (${(err as { code?: string }).code ?? "error"})`);
  }

  const serverConnections = async () => {
    const rows = (await mysqlAdminQuery("SHOW GLOBAL STATUS LIKE 'Connections'")) as Array<{ Value: string }>;
    return Number(rows[0]?.Value ?? 0);
  };
  const flavour = /mariadb/i.test(version) ? "MariaDB" : "MySQL";
  return {
    driver: "mysql2",
    server: `${flavour} ${version}`,
    openedMethod: "server-wide Connections status, difference over the strategy's windows (upper bound)",
    openedExact: false,
    shared: true,
    extraConnections: 0,
    env,
    identity: (strategy) => users.get(strategy)!.user,
    counter(strategy) {
      const user = users.get(strategy)!;
      return { opened: serverConnections, current: () => mysqlConnectionCount(user.user) };
    },
    settle: () => sleep(300),
    async close() {
      for (const user of users.values()) await user.drop().catch(() => {});
      await closeMysqlAdmin().catch(() => {});
    },
  };
}

/** Users left by a bench run that was killed: their pid is in the name. */
async function dropStale(): Promise<void> {
  const rows = (await mysqlAdminQuery("SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE 'ndcb%'")) as Array<{ u: string; h: string }>;
  for (const { u, h } of rows) {
    const pid = Number(/^ndcb(\d+)_/.exec(u)?.[1]);
    if (pid && !isAlive(pid)) await mysqlAdminQuery("DROP USER IF EXISTS ?@?", [u, h]).catch(() => {});
  }
}
