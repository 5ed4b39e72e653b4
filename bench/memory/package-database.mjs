// Re-evaluated 50 times by reevaluate.mjs, as dev hot reload re-evaluates a
// user's lib/database.ts: the definition is new each time, the pool is not.
import { createDatabase } from "next-db-connect";
import { mongodb } from "next-db-connect/mongodb";

export const database = createDatabase(
  mongodb({ url: process.env.BENCH_MONGO_URL, dbName: "bench", maxPoolSize: 8 }),
  { name: "bench-reevaluation", logger: false },
);

export async function query() {
  const { db } = await database.connect();
  return db.collection("items").findOne({ _id: 1 });
}
