import pg from "pg";

/**
 * Counts connections on the database server itself (pg_stat_activity by
 * application_name), never by asking the app. Its own connections carry
 * another application_name, so they are not counted.
 */
export function serverCounter(url: string) {
  const admin = new pg.Pool({ connectionString: url, max: 1, application_name: "ndc_e2e_admin", idleTimeoutMillis: 0 });
  admin.on("error", () => {}); // the outage test stops the server under it
  return {
    async count(applicationName: string): Promise<number> {
      const { rows } = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
        [applicationName],
      );
      return rows[0]?.n ?? 0;
    },
    close: () => admin.end(),
  };
}
