/**
 * The cause in the log. A database that cannot be reached is logged by what
 * happened, from the lines the package writes (captured with a logger):
 *
 * - nothing listens on the port: "connection refused";
 * - the host does not exist (`.invalid`, which never resolves): "DNS lookup failed";
 * - the server accepts and never answers (a black-hole proxy): a timeout.
 *
 * for pg, mysql2 and MongoDB (drivers 4.x and 7.x), with the package's
 * default deadlines. pg and mysql2 fail refused and unknown hosts at once.
 * The MongoDB driver keeps retrying server selection, so its own deadline must
 * end before the package's for its error, which names the cause, to be the
 * one logged, also on a cold start, when loading the driver is part of the
 * first connect (a fresh process). Control, same run: a MongoDB server
 * selection deadline past the package's (as when both were 10 s and the
 * package's fired first) has the refused connection logged as "timed out".
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, type Build } from "../support/build.js";
import { sandboxWithMongoDriver, type DriverSandbox } from "../support/driver-sandbox.js";
import { captureLogger } from "../support/logger.js";
import { createMysqlUser, closeMysqlAdmin, type MysqlTestUser } from "../support/mysql.js";
import { closeAdmin, freePort, uniqueName } from "../support/postgres.js";
import { TcpProxy } from "../support/tcp-proxy.js";

/** The package's connect deadline here: short, so the black hole costs little; the drivers' defaults follow from it. */
const CONNECT_TIMEOUT_MS = 1500;
const MISSING_HOST = "ndc-no-such-host.invalid";
/**
 * A fresh process loads the driver inside its first connect's deadline (up to a second on a busy machine).
 * Here it takes DRIVER_LOAD_MS, more than the 20% of COLD_CONNECT_TIMEOUT_MS the driver's 80% used to leave.
 */
const COLD_CONNECT_TIMEOUT_MS = 4000;
const DRIVER_LOAD_MS = 1200;

let build: Build;
let sandboxes: DriverSandbox[] = [];
let mysqlUser: MysqlTestUser;
let blackHole: TcpProxy;
const SECRET = "s3cret-cause-pw";

beforeAll(async () => {
  build = await buildPackage(); // one build, copied into every sandbox of this file
  sandboxes = await Promise.all([sandboxWithMongoDriver("mongodb-v4", build), sandboxWithMongoDriver("mongodb", build)]);
  mysqlUser = await createMysqlUser("ndc_cause");
  // Accepts every connection and never forwards a byte.
  blackHole = new TcpProxy("127.0.0.1", await freePort());
  await blackHole.up();
  blackHole.blackhole(true);
}, 120_000);

afterAll(async () => {
  await blackHole?.down();
  await mysqlUser?.drop();
  await Promise.all(sandboxes.map((s) => s.remove()));
  await build?.remove();
  await closeAdmin();
  await closeMysqlAdmin();
});

type Fault = "refused" | "dns" | "blackhole";

interface Driver {
  label: string;
  /** A database at `host:port`, with the package's default driver deadlines unless `driverOptions` says otherwise. */
  make(host: string, port: number, driverOptions?: object): { connect(): Promise<unknown>; close(): Promise<void>; log: ReturnType<typeof captureLogger> };
}

function sandbox(i: number): DriverSandbox {
  return sandboxes[i]!;
}

const drivers: Driver[] = [
  {
    label: "pg",
    make(host, port) {
      const log = captureLogger();
      const index = sandbox(1).index;
      return { log, ...withPg(index, host, port, log) };
    },
  },
  {
    label: "mysql2",
    make(host, port) {
      const log = captureLogger();
      return { log, ...withMysql(host, port, log) };
    },
  },
  ...[0, 1].map((i) => ({
    label: `mongodb ${i === 0 ? "4.x" : "7.x"}`,
    make(host: string, port: number, driverOptions?: object) {
      const log = captureLogger();
      const { index, adapter } = sandbox(i);
      const database = index.createDatabase(adapter.mongodb({ url: `mongodb://app:${SECRET}@${host}:${port}/app`, ...driverOptions }), {
        name: uniqueName("ndc_cause_mongo"),
        logger: log,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
      return { log, connect: () => database.connect(), close: () => database.close() };
    },
  })),
];

let pgModule: typeof import("../../src/adapters/pg.js");
let mysqlModule: typeof import("../../src/adapters/mysql2.js");
beforeAll(async () => {
  pgModule = await sandbox(1).pg();
  mysqlModule = await import("../../src/adapters/mysql2.js");
});

function withPg(index: DriverSandbox["index"], host: string, port: number, log: ReturnType<typeof captureLogger>) {
  const database = index.createDatabase(pgModule.pg({ host, port, user: "app", password: SECRET, database: "app" }), {
    name: uniqueName("ndc_cause_pg"),
    logger: log,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  return { connect: () => database.connect(), close: () => database.close() };
}

function withMysql(host: string, port: number, log: ReturnType<typeof captureLogger>) {
  const index = sandbox(1).index;
  const database = index.createDatabase(mysqlModule.mysql2({ host, port, user: mysqlUser.user, password: SECRET, database: "test" }), {
    name: uniqueName("ndc_cause_mysql"),
    logger: log,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  return { connect: () => database.connect(), close: () => database.close() };
}

/** Connects once against the fault and returns the package's error lines. */
async function failedConnect(driver: Driver, fault: Fault, driverOptions?: object): Promise<{ errorLines: string; error: Error }> {
  // Refused: a port nothing listens on. DNS: a name under .invalid, which never resolves.
  const [host, port] = fault === "dns" ? [MISSING_HOST, 5432] : fault === "refused" ? ["127.0.0.1", await freePort()] : ["127.0.0.1", blackHole.port];
  const target = driver.make(host, port, driverOptions);
  try {
    const error = (await target.connect().then(() => new Error("connected?"), (e: Error) => e)) as Error;
    const errorLines = target.log.lines.filter((l) => l.startsWith("error")).join("\n");
    return { errorLines, error };
  } finally {
    await target.close();
  }
}

describe.each(drivers)("$label", (driver) => {
  it("a refused connection is logged as refused", async () => {
    const { errorLines, error } = await failedConnect(driver, "refused");
    expect(errorLines).toMatch(/connect failed \(connection refused/);
    expect(errorLines).not.toMatch(/timed out/);
    expect(error.name).toBe("DatabaseUnavailableError");
    expect(errorLines + error.message).not.toContain(SECRET);
  }, 30_000);

  it("a host that does not resolve is logged as a DNS failure", async () => {
    const { errorLines } = await failedConnect(driver, "dns");
    expect(errorLines).toMatch(/connect failed \(DNS lookup failed/);
    expect(errorLines).toContain(MISSING_HOST);
    expect(errorLines).not.toMatch(/timed out|refused/);
  }, 30_000);

  it("a server that never answers is logged as a timeout", async () => {
    const { errorLines } = await failedConnect(driver, "blackhole");
    expect(errorLines).toMatch(/connect failed \(.*(timed out|timeout|no answer from the server in time)/i);
    expect(errorLines).not.toMatch(/refused|DNS/);
  }, 30_000);
});

describe("control: the package's deadline firing before the driver's", () => {
  it.each([
    { i: 2, major: "4.x" },
    { i: 3, major: "7.x" },
  ])("MongoDB $major: a driver deadline past the package's makes a refused connection read \"timed out\"", async ({ i }) => {
    const driver = drivers[i]!;
    // Server selection is what a refused connection waits out; past the package's deadline, the package speaks first.
    const { errorLines } = await failedConnect(driver, "refused", { serverSelectionTimeoutMS: 2 * CONNECT_TIMEOUT_MS });
    expect(errorLines).toMatch(/connect failed \(.*timed out after/);
    expect(errorLines).not.toMatch(/connect failed \(connection refused/);
  }, 30_000);
});

describe("cold start: the driver loaded by the first connect, slowly", () => {
  let slow: DriverSandbox[] = [];
  beforeAll(async () => {
    slow = await Promise.all([sandboxWithMongoDriver("mongodb-v4", build, { loadDelayMs: DRIVER_LOAD_MS }), sandboxWithMongoDriver("mongodb", build, { loadDelayMs: DRIVER_LOAD_MS })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(slow.map((s) => s.remove()));
  });

  /** A fresh process: its first connect loads the driver; returns the package's error lines. */
  async function coldConnect(i: number, driverOptions: object): Promise<string> {
    const port = await freePort();
    const script = `
      const { createDatabase } = await import(${JSON.stringify(slow[i]!.entryUrl("index.js"))});
      const { mongodb } = await import(${JSON.stringify(slow[i]!.entryUrl("mongodb.js"))});
      const lines = [];
      const logger = { info() {}, warn() {}, error: (m) => lines.push(m) };
      const options = { url: "mongodb://127.0.0.1:${port}/app", ...${JSON.stringify(driverOptions)} };
      const database = createDatabase(mongodb(options), { logger, connectTimeoutMs: ${COLD_CONNECT_TIMEOUT_MS} });
      await database.connect().catch(() => {});
      console.log(JSON.stringify(lines));
      process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 });
    return (JSON.parse(stdout.trim().split("\n").pop()!) as string[]).join("\n");
  }

  it.each([
    { i: 0, major: "4.x" },
    { i: 1, major: "7.x" },
  ])("MongoDB $major: a refused connection is still logged as refused; control: the driver's deadline at 80% regardless reads \"timed out\"", async ({ i }) => {
    const ours = await coldConnect(i, {});
    expect(ours).toMatch(/connect failed \(connection refused/);
    expect(ours).not.toMatch(/timed out/);
    // What the adapter set before it counted the load: 80% of connectTimeoutMs, whatever the load took.
    const before = Math.floor(COLD_CONNECT_TIMEOUT_MS * 0.8);
    const control = await coldConnect(i, { serverSelectionTimeoutMS: before });
    expect(control).toMatch(/connect failed \(.*timed out after/);
  }, 60_000);
});
