// Where each strategy connects. The bench runner gives every (driver, strategy)
// pair its own database identity (a PostgreSQL database and application_name,
// a MariaDB user, a wire server port), so the connections each one opens can
// be counted on the server. The placeholders below are only seen by
// `next build`, which evaluates modules but sends no query.

export const DRIVERS = ["pg", "mysql2", "mongodb"] as const;
export type Driver = (typeof DRIVERS)[number];

export type StrategyId = "a" | "b" | "c" | "c-nc" | "d" | "d-noguard" | "c-app" | "e";

const PLACEHOLDER: Record<Driver, string> = {
  pg: "postgres://bench@127.0.0.1:1/bench",
  mysql2: "mysql://bench@127.0.0.1:1/bench",
  mongodb: "mongodb://127.0.0.1:1/bench",
};

export function urlFor(driver: Driver, strategy: StrategyId): string {
  const key = `BENCH_URL_${driver.toUpperCase()}_${strategy.replace("-", "_").toUpperCase()}`;
  return process.env[key] ?? PLACEHOLDER[driver];
}

/** The same pool size for every pooled strategy, so only the strategy differs. */
export const POOL_MAX = Number(process.env.BENCH_POOL_MAX ?? 8);

export const MONGO_DB = "bench";

export function isDriver(value: unknown): value is Driver {
  return typeof value === "string" && (DRIVERS as readonly string[]).includes(value);
}
