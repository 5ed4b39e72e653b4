// Phase 4b: heap growth across 50 re-evaluations of a module that defines the
// database (dev hot reload), for the package and for a module-scope client,
// each in a fresh child process against its own wire server, whose socket
// count shows what each left open.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { MongoClient } from "mongodb";
import { MongoWireServer } from "../../test/support/mongo-wire/index.js";
import { BENCH_DIR } from "../lib/paths.js";
import { round, sleep } from "../lib/stats.js";

const run = promisify(execFile);

export interface ReevaluationResult {
  kind: "bare-module" | "package-database" | "module-pool";
  evaluations: number;
  heapGrowthKiB: number;
  /** Sockets open on the wire server just before the child exits. */
  serverConnectionsOpen: number;
  /** Sockets the wire server accepted in the whole run. */
  serverConnectionsOpened: number;
}

export async function runReevaluation(kind: ReevaluationResult["kind"], evaluations: number): Promise<ReevaluationResult> {
  const server = new MongoWireServer();
  const uri = `${await server.start()}/bench`;
  try {
    const seeder = new MongoClient(uri);
    await seeder.db("bench").collection<{ _id: number }>("items").insertOne({ _id: 1 });
    await seeder.close();
    await sleep(100);
    const acceptedBefore = server.totalAccepted;
    let openAtEnd = 0;
    // The child prints its result before exiting; read the server's open sockets at that moment.
    const child = run(process.execPath, ["--expose-gc", join(BENCH_DIR, "memory", "reevaluate.mjs"), kind, String(evaluations)], {
      cwd: BENCH_DIR,
      env: { ...process.env, BENCH_MONGO_URL: uri },
      timeout: 180_000,
      killSignal: "SIGKILL",
    });
    child.child.stdout?.once("data", () => {
      openAtEnd = server.connectionCount;
    });
    const { stdout } = await child;
    const line = JSON.parse(stdout.trim().split("\n").pop()!) as { heapBefore: number; heapAfter: number };
    return {
      kind,
      evaluations,
      heapGrowthKiB: round((line.heapAfter - line.heapBefore) / 1024, 0),
      serverConnectionsOpen: openAtEnd,
      serverConnectionsOpened: server.totalAccepted - acceptedBefore,
    };
  } finally {
    await server.stop();
  }
}
