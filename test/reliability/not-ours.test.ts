/**
 * Scenario 11, errors that are not the database's keep the app's status.
 *
 * The same handler runs in every router style (test/support/router-styles.ts)
 * against real PostgreSQL, MariaDB and the MongoDB wire server, each behind a
 * TCP proxy. After one trivial query it fails in one of three ways:
 *
 * - `fetch`: a `fetch()` to a service that refuses the connection
 *   (`TypeError: fetch failed`, `ECONNREFUSED` in `err.cause`);
 * - `etimedout`: an error with `code: "ETIMEDOUT"`, as HTTP clients throw;
 * - `wrapped`: a real database error, the proxy cutting the connection in the
 *   middle of the handler's query, wrapped by the app in its own
 *   (`new Error("…", { cause })`).
 *
 * The first two keep the app's own 500 and leave the lifecycle alone (state
 * `connected`, no failure counted, no "may be unreachable" line, so no probe).
 * The wrapped one is the database's: 503 with Retry-After wherever the error
 * comes back to the package (v1, `database.onError`, `api()`, `route()`,
 * `createEdgeRouter`); where it cannot (v0 and Express without
 * `database.onError`) it keeps the app's 500, and the driver's own report
 * still makes the lifecycle check the database.
 *
 * Control: the errors do carry network codes, so the previous classifier
 * (any network-looking code on the error or its causes means "unreachable",
 * reproduced below) called the first two outages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../index.js";
import { mongodb } from "../../src/adapters/mongodb.js";
import { mysql2 } from "../../src/adapters/mysql2.js";
import { pg } from "../../src/adapters/pg.js";
import { countStatuses, recordFigures } from "../support/figures.js";
import { captureLogger } from "../support/logger.js";
import { closeMysqlAdmin } from "../support/mysql.js";
import { closeAdmin, freePort } from "../support/postgres.js";
import { get, isPackage503, ROUTER_STYLES, serveRouterStyles, STYLES_THAT_SEE_HANDLER_ERRORS, type Answer, type RouterStyle, type WorkContext } from "../support/router-styles.js";
import { proxiedMariadb, proxiedMongo, proxiedPostgres, type ProxiedTarget } from "../support/shared-targets.js";
import { waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/not-ours.test.ts";
type Failing = "fetch" | "etimedout" | "wrapped";

afterAll(async () => {
  await closeAdmin();
  await closeMysqlAdmin();
});

/** CONTROL: the previous classifier, which called any network-looking code on an error or its causes an outage. */
const OLD_NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
function oldClassifierSaysUnreachable(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 4) return false;
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string" && OLD_NETWORK_CODES.has(code)) return true;
  if (Array.isArray(errors) && errors.some((e) => oldClassifierSaysUnreachable(e, depth + 1))) return true;
  return oldClassifierSaysUnreachable(cause, depth + 1);
}

const targets = [
  { make: proxiedPostgres, adapter: (t: ProxiedTarget) => pg({ connectionString: t.url, application_name: t.app, max: 4 }) },
  { make: proxiedMariadb, adapter: (t: ProxiedTarget) => mysql2({ uri: t.url, connectionLimit: 4 }) },
  { make: proxiedMongo, adapter: (t: ProxiedTarget) => mongodb({ url: t.url, appName: t.app, maxPoolSize: 4, serverSelectionTimeoutMS: 2000, heartbeatFrequencyMS: 500 }) },
];

const trivial = (t: ProxiedTarget, db: any) =>
  t.driver === "mongodb" ? db.command({ ping: 1 }) : db.query("SELECT 1 AS one");

/** Starts a query that the proxy cuts while it runs; the app wraps the driver's error in its own. */
async function cutMidQuery(t: ProxiedTarget, db: any): Promise<unknown> {
  const cut = () => setTimeout(() => t.proxy.cutAll(), 150);
  if (t.driver === "pg") {
    const client = await db.connect();
    try {
      const running = client.query("SELECT pg_sleep(2)");
      cut();
      return await running;
    } finally {
      client.release(true);
    }
  }
  if (t.driver === "mysql2") {
    const connection = await db.getConnection();
    try {
      const running = connection.query("SELECT SLEEP(2)");
      cut();
      return await running;
    } finally {
      connection.release();
    }
  }
  t.mongo!.setReplyDelay(1000);
  try {
    const running = db.command({ count: "things" }); // a command: not retried by the driver
    cut();
    return await running;
  } finally {
    t.mongo!.setReplyDelay(0);
  }
}

describe.each(targets)("not ours keeps its status: $make.name", ({ make, adapter }) => {
  let t: ProxiedTarget;
  let closedPort: number;
  beforeAll(async () => {
    t = await make();
    closedPort = await freePort(); // nothing listens: fetch() is refused
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it("fetch() and ETIMEDOUT errors keep the app's 500 in every router style, the lifecycle untouched; a wrapped real database error is a 503", async () => {
    const log = captureLogger();
    const database = createDatabase(adapter(t), { name: t.app, logger: log, retry: { cooldownMs: 200, maxCooldownMs: 500 } });
    const thrown: Array<{ kind: Failing; err: unknown }> = [];
    const work = async ({ db, url }: WorkContext) => {
      await trivial(t, db);
      const kind = url.pathname.slice(1) as Failing | "q";
      if (kind === "q") return "ok";
      let err: unknown;
      if (kind === "fetch") {
        err = await fetch(`http://127.0.0.1:${closedPort}/quote`).then(() => new Error("fetch succeeded?"), (e: unknown) => e);
      } else if (kind === "etimedout") {
        err = Object.assign(new Error("connect ETIMEDOUT 10.255.255.1:443"), { code: "ETIMEDOUT", errno: -110, syscall: "connect" });
      } else {
        err = await cutMidQuery(t, db).then(
          () => new Error("the query was not cut"),
          (dbErr: unknown) => new Error("could not load the report", { cause: dbErr }),
        );
      }
      thrown.push({ kind, err });
      throw err;
    };
    const servers = await serveRouterStyles(database, work);
    const answers: Array<{ style: RouterStyle; kind: Failing; answer: Answer; state: string; failures: number; logLines: string[] }> = [];
    let logBeforeWrapped = "";
    try {
      for (const style of ROUTER_STYLES) expect((await get(servers.url(style))).status, style).toBe(200);
      // Not ours first: every style, both kinds, the state read after each.
      for (const kind of ["fetch", "etimedout", "wrapped"] as const) {
        if (kind === "wrapped") logBeforeWrapped = log.text();
        for (const style of ROUTER_STYLES) {
          // A wrapped cut makes the lifecycle check the database: start each case from a settled state.
          await waitFor(() => database.stats().state, (s) => s === "connected", 10_000);
          const linesBefore = log.lines.length;
          const answer = await get(servers.url(style, `/${kind}`));
          const stats = database.stats();
          answers.push({ style, kind, answer, state: stats.state, failures: stats.failures, logLines: log.lines.slice(linesBefore).filter((l) => !/ failed: /.test(l)) });
        }
      }
    } finally {
      await servers.close();
      await database.close();
    }

    if (process.env.NDC_DEBUG) console.log(answers.map((a) => `${a.kind} ${a.style} ${a.answer.status} ${Math.round(a.answer.ms)}ms ${a.state} ${a.answer.body.slice(0, 120)} ${a.logLines.join(" | ")}`).join("\n"), log.text());
    const notOurs = answers.filter((a) => a.kind !== "wrapped");
    const wrapped = answers.filter((a) => a.kind === "wrapped");
    const summary = (rows: typeof answers) => rows.map((a) => `${a.style}:${a.answer.status}`).join(" ");
    const controlCalls = thrown.filter((x) => x.kind !== "wrapped" && oldClassifierSaysUnreachable(x.err)).length;
    const notOursThrown = thrown.filter((x) => x.kind !== "wrapped").length;
    recordFigures(`11-not-ours-${t.driver}`, {
      scenario: "11. Not ours keeps its status",
      database: t.label,
      load: `one request per router style (${ROUTER_STYLES.length} styles) and failure kind`,
      faults: "handler: fetch() refused (ECONNREFUSED in cause); an error with code ETIMEDOUT; a real database error (proxy cut mid-query) wrapped in the app's own",
      requests: answers.length,
      statuses: countStatuses(answers.map((a) => a.answer.status)),
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: Math.round(Math.max(...answers.map((a) => a.answer.ms))),
      recoveryMs: null,
      leaks: null,
      notes:
        `not ours (fetch, ETIMEDOUT): ${notOurs.filter((a) => a.answer.status === 500).length}/${notOurs.length} kept the app's 500, ` +
        `state after each: ${[...new Set(notOurs.map((a) => a.state))].join(",")}, failures counted ${Math.max(...notOurs.map((a) => a.failures))}, ` +
        `lifecycle log lines ${notOurs.reduce((n, a) => n + a.logLines.length, 0)}. Wrapped real error: ${summary(wrapped)}. ` +
        `Control: the previous classifier calls ${controlCalls}/${notOursThrown} of the not-ours errors an outage.`,
      command: COMMAND,
    });

    // The errors really carry network codes: a classifier that looks at codes calls them outages.
    const fetchErrors = thrown.filter((x) => x.kind === "fetch").map((x) => x.err as Error & { cause?: { code?: string } });
    expect(fetchErrors).toHaveLength(ROUTER_STYLES.length);
    for (const err of fetchErrors) {
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toBe("fetch failed");
      expect(err.cause?.code).toBe("ECONNREFUSED");
    }
    expect(controlCalls).toBe(notOursThrown);

    for (const a of notOurs) {
      const where = `${a.kind} under ${a.style}: ${a.answer.status} ${a.answer.body}`;
      expect(a.answer.status, where).toBe(500);
      expect(a.answer.retryAfter, where).toBeNull();
      expect(a.answer.body, where).not.toContain("database_unavailable");
      expect(a.state, where).toBe("connected");
      expect(a.failures, where).toBe(0);
      expect(a.logLines, where).toEqual([]);
    }
    expect(logBeforeWrapped).not.toMatch(/unreachable|may be|probe|lost/);

    for (const a of wrapped) {
      const where = `wrapped under ${a.style}: ${a.answer.status} ${a.answer.body}`;
      if (STYLES_THAT_SEE_HANDLER_ERRORS.has(a.style)) {
        expect(isPackage503(a.answer), where).toBe(true);
      } else {
        expect(a.answer.status, where).toBe(500);
      }
    }
    // Every wrapped cut was a real driver error, reported by the driver itself: the lifecycle checked the database each time.
    expect(thrown.filter((x) => x.kind === "wrapped" && /not cut/.test(String((x.err as Error).message)))).toEqual([]);
    expect(log.text()).toMatch(/may be unreachable|lost the server|lost the connection/);
  }, 120_000);
});
