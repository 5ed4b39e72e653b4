// The control: a client created at module scope. Every re-evaluation creates
// (and connects) another one; nothing ever closes the old ones.
import { MongoClient } from "mongodb";

const client = new MongoClient(process.env.BENCH_MONGO_URL, { maxPoolSize: 8 });

export async function query() {
  return client.db("bench").collection("items").findOne({ _id: 1 });
}
