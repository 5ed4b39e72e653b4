import type { Driver, Network } from "../strategies.js";
import { mariadbTarget } from "./mariadb.js";
import { mongoTarget } from "./mongodb.js";
import { postgresTarget } from "./postgres.js";
import { productionMariadbTarget, productionPostgresTarget } from "./production.js";
import { TargetUnavailable, type DriverTarget } from "./target.js";

export type { DriverTarget } from "./target.js";

const OPEN: Record<Network, Partial<Record<Driver, () => Promise<DriverTarget>>>> = {
  local: { pg: postgresTarget, mysql2: mariadbTarget, mongodb: mongoTarget },
  // No MongoDB: the wire server speaks neither TLS nor SCRAM, and no mongod can be installed here.
  production: { pg: productionPostgresTarget, mysql2: productionMariadbTarget },
};

/** Opens every driver's target on every network; one that cannot be reached is skipped with its reason. */
export async function openTargets(drivers: readonly Driver[], networks: readonly Network[], log: (line: string) => void) {
  const targets: DriverTarget[] = [];
  const skipped: Array<{ driver: Driver; network: Network; reason: string }> = [];
  for (const network of networks) {
    for (const driver of drivers) {
      const open = OPEN[network][driver];
      if (!open) continue;
      try {
        targets.push(await open());
      } catch (err) {
        if (!(err instanceof TargetUnavailable)) throw err;
        skipped.push({ driver, network, reason: err.message });
        log(`skipping ${driver} (${network}): ${err.message}`);
      }
    }
  }
  return { targets, skipped };
}
