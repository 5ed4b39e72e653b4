// Warms the pool when the server starts, so the first request does not pay
// for the connect. instrumentation is bundled on its own, yet it gets the same
// pool as every route (the registry lives on globalThis).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return; // no TCP drivers in the Edge runtime
  const { database } = await import("./lib/database");
  const { recordUse } = await import("./lib/usage");
  recordUse("instrumentation.ts register()");
  // A failure is logged by next-db-connect; the first request after the cooldown connects.
  await database.connect().catch(() => {});
}
