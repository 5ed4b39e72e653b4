import type { Driver } from "../strategies.js";
import { mariadbTarget } from "./mariadb.js";
import { mongoTarget } from "./mongodb.js";
import { postgresTarget } from "./postgres.js";
import { TargetUnavailable, type DriverTarget } from "./target.js";

export type { DriverTarget } from "./target.js";

const OPEN: Record<Driver, () => Promise<DriverTarget>> = { pg: postgresTarget, mysql2: mariadbTarget, mongodb: mongoTarget };

/** Opens every driver's target; a database that cannot be reached is skipped with its reason. */
export async function openTargets(drivers: readonly Driver[], log: (line: string) => void) {
  const targets: DriverTarget[] = [];
  const skipped: Array<{ driver: Driver; reason: string }> = [];
  for (const driver of drivers) {
    try {
      targets.push(await OPEN[driver]());
    } catch (err) {
      if (!(err instanceof TargetUnavailable)) throw err;
      skipped.push({ driver, reason: err.message });
      log(`skipping ${driver}: ${err.message}`);
    }
  }
  return { targets, skipped };
}
