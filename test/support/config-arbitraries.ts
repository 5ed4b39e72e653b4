/**
 * fast-check arbitraries for the configuration fuzzer
 * (test/reliability/config-fuzz.test.ts): configurations for `pg()`,
 * `mysql2()`, `mongodb()`, `defineAdapter()` and `createDatabase()` options,
 * each with the outcome the package promises for it.
 *
 * A canary password is planted in every place a password can go (URL userinfo,
 * `password` fields, `?password=` query parameters, MongoDB `auth`), raw,
 * percent-encoded and with unicode. It never goes anywhere else, so any
 * appearance of its core in what the package shows is a leak.
 *
 * Most cases fail validation or reach a closed local port (fast); the
 * "real" families reach the local PostgreSQL/MariaDB and MongoDB (the wire
 * server, started with a user, or MONGODB_URI's mongod), and are weighted to
 * stay a bounded minority.
 */
import fc from "fast-check";
import { mongoUrl, withCredentials } from "./mongodb-target.js";

export interface FuzzTargets {
  /** The local PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/test (trust auth here). */
  pgUrl: string;
  /** application_name of every real pg connect, so pg_stat_activity can count them. */
  pgApp: string;
  /** A MariaDB user of this run, so the processlist can count its connections. */
  mysql: { host: string; port: number; user: string; password: string; database: string };
  /** The MongoDB server: the wire server, mongodb://127.0.0.1:PORT, or MONGODB_URI's mongod. */
  mongoUri: string;
  /** A user the MongoDB server knows (the wire server is started with it); null for a real mongod, whose users the run does not know. */
  mongoUser: { user: string; password: string; db: string } | null;
  /** A local port nothing listens on: connects are refused at once. */
  closedPort: number;
}

/** What the package must answer for a case. */
export type Expectation =
  | { outcome: "config"; setting?: string }
  | { outcome: "config-or-unavailable" }
  | { outcome: "unavailable" }
  | { outcome: "connected" }
  /** A connect that may beat or miss a tiny connectTimeoutMs, or that the server may refuse. */
  | { outcome: "connected-or-unavailable" }
  /** Anything typed: the value is malformed in a way only the driver notices. */
  | { outcome: "typed" };

export type Driver = "pg" | "mysql2" | "mongodb" | "custom";

export interface FuzzCase {
  driver: Driver;
  /** Which kind of input this is, for the figures ("garbage-url", "pool-size"...). */
  family: string;
  /** The adapter's argument (for "custom", the defineAdapter() definition). */
  config: unknown;
  /** createDatabase() options; the runner adds a unique `name` and a capturing `logger` unless `rawOptions`. */
  options: Record<string, unknown>;
  /** Use `options` exactly as generated (garbage options: not even an object). */
  rawOptions?: unknown;
  expect: Expectation;
}

/** A distinctive random string: its core is searched for in everything the package shows. */
export function makeCanary(): { core: string } {
  return { core: `cnry${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}` };
}

const config = (setting?: string): Expectation => ({ outcome: "config", ...(setting ? { setting } : {}) });
const UNAVAILABLE: Expectation = { outcome: "unavailable" };
const CONNECTED: Expectation = { outcome: "connected" };
const EITHER: Expectation = { outcome: "connected-or-unavailable" };
const TYPED: Expectation = { outcome: "typed" };
const REJECTED: Expectation = { outcome: "config-or-unavailable" };

/** The canary as a password: plain, with unicode, with URL delimiters, with a literal percent sequence. */
function passwordArb(core: string): fc.Arbitrary<string> {
  return fc.constantFrom(core, `${core}ü€字`, `${core}@:/?#&=`, `${core}%41%zz`, `ÄÖ${core}😀`, ` ${core} `);
}

/** How the password sits in a URL: percent-encoded as it should be, or raw (a half-valid URL). */
const encodings = fc.constantFrom<"encoded" | "raw">("encoded", "encoded", "encoded", "raw");

function userinfo(user: string, password: string | undefined, encoding: "encoded" | "raw"): string {
  if (password === undefined) return `${user}@`;
  return `${user}:${encoding === "encoded" ? encodeURIComponent(password) : password}@`;
}

/** Values of the wrong type or out of range for an integer option. */
const badIntegers = fc.oneof(
  fc.constantFrom<unknown>(0, -1, -2_147_483_649, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e12, "10", "", null, true, [], {}, 10n),
  fc.double({ noInteger: true }),
  fc.integer({ max: -1 }),
);

const badStrings = fc.constantFrom<unknown>("", 0, 42, true, null, [], {}, ["a"], Symbol("s"));

/** Values of createDatabase() options that must be rejected, each with the setting it names. */
const badDatabaseOptions: fc.Arbitrary<{ options: Record<string, unknown>; setting: string }> = fc.oneof(
  badIntegers.filter((v) => typeof v !== "number" || !(v > 0)).map((v) => ({ options: { connectTimeoutMs: v }, setting: "connectTimeoutMs" })),
  fc.constantFrom<unknown>(0, -5, "2000", null, Number.NaN, 1e9).map((v) => ({ options: { healthTimeoutMs: v }, setting: "healthTimeoutMs" })),
  fc.constantFrom<unknown>(0, -5, "2000", null, Number.NaN, 1e9).map((v) => ({ options: { closeTimeoutMs: v }, setting: "closeTimeoutMs" })),
  fc.constantFrom<unknown>(-1, "1000", null, Number.NaN, 1e10).map((v) => ({ options: { retry: { cooldownMs: v } }, setting: "retry.cooldownMs" })),
  fc.constantFrom<unknown>(0, 0.5, -2, "2", 1e6).map((v) => ({ options: { retry: { factor: v } }, setting: "retry.factor" })),
  fc.constantFrom<unknown>(5, "x", 0).map((v) => ({ options: { retry: v }, setting: "retry" })),
  fc.constantFrom<unknown>("yes", 1, 0, null, {}).map((v) => ({ options: { leakGuard: v }, setting: "leakGuard" })),
  fc.constantFrom<unknown>("fn", 1, {}, []).map((v) => ({ options: { onConnect: v }, setting: "onConnect" })),
  fc.constantFrom<unknown>("console", 5, {}, { warn: () => {} }, { warn: 1, error: 1 }).map((v) => ({ options: { logger: v }, setting: "logger" })),
);

/** Options that let a failing case end quickly. */
const fastOptions: fc.Arbitrary<Record<string, unknown>> = fc.record({
  connectTimeoutMs: fc.integer({ min: 150, max: 1500 }),
  healthTimeoutMs: fc.integer({ min: 100, max: 400 }),
  closeTimeoutMs: fc.integer({ min: 300, max: 1500 }),
  retry: fc.record({ cooldownMs: fc.integer({ min: 0, max: 2000 }), factor: fc.integer({ min: 1, max: 4 }) }),
  leakGuard: fc.boolean(),
});

/** Random text, including unicode and control characters, never a valid scheme prefix. */
const garbageText = fc
  .oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }))
  .filter((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s));

interface SqlShape {
  driver: "pg" | "mysql2";
  urlKey: "connectionString" | "uri";
  schemes: readonly string[];
  poolKey: "max" | "connectionLimit";
  /** Integer options: each rejects every value of badIntegers (0 aside, where 0 is valid). */
  integers: readonly string[];
  realUrl(t: FuzzTargets, password: string | undefined, encoding: "encoded" | "raw"): string;
  /** Extra settings a real connect needs (pg: application_name, for counting). */
  realExtras(t: FuzzTargets): Record<string, unknown>;
  /** Whether the server checks passwords (local PostgreSQL: trust auth; MariaDB: yes). */
  checksPasswords: boolean;
}

const PG: SqlShape = {
  driver: "pg",
  urlKey: "connectionString",
  schemes: ["postgres", "postgresql"],
  poolKey: "max",
  integers: ["max", "min", "idleTimeoutMillis", "connectionTimeoutMillis", "statement_timeout", "query_timeout", "port"],
  realUrl(t, password, encoding) {
    const base = new URL(t.pgUrl);
    return `postgres://${userinfo(base.username || "postgres", password, encoding)}${base.host}${base.pathname}`;
  },
  realExtras: (t) => ({ application_name: t.pgApp }),
  checksPasswords: false,
};

const MYSQL: SqlShape = {
  driver: "mysql2",
  urlKey: "uri",
  schemes: ["mysql", "mariadb"],
  poolKey: "connectionLimit",
  integers: ["connectionLimit", "maxIdle", "queueLimit", "connectTimeout", "idleTimeout", "port"],
  realUrl(t, password, encoding) {
    const m = t.mysql;
    return `mysql://${userinfo(m.user, password, encoding)}${m.host}:${m.port}/${m.database}`;
  },
  realExtras: () => ({}),
  checksPasswords: true,
};

type Placement = "userinfo" | "fields" | "query";

/** What a failing onConnect puts in its error: nothing, the URL as given, the URL as `new URL()` prints it, the password. */
type Echo = "none" | "url" | "href" | "password";
const echoes = fc.constantFrom<Echo>("none", "none", "none", "url", "href", "password");

/**
 * An onConnect (a migration check, an index build) that fails and, as real
 * code does, puts what it was connecting to in its error.
 */
function echoingOnConnect(echo: Echo, url: string | undefined, password: string): (() => never) | undefined {
  if (echo === "none" || (echo !== "password" && url === undefined)) return undefined;
  const shown = echo === "password" ? password : echo === "url" ? url! : new URL(url!).href;
  return () => {
    throw new Error(`migration check failed on ${shown}`);
  };
}

function sqlCases(shape: SqlShape, t: FuzzTargets, core: string): fc.Arbitrary<FuzzCase> {
  const scheme = fc.constantFrom(...shape.schemes);
  const closed = `127.0.0.1:${t.closedPort}`;
  const make = (family: string, cfg: fc.Arbitrary<{ config: unknown; expect: Expectation }>, options = fastOptions) =>
    fc.tuple(cfg, options).map(([c, o]): FuzzCase => ({ driver: shape.driver, family, config: c.config, options: o, expect: c.expect }));

  // An unset environment variable: the key is written, the value is not there.
  const missing = make(
    "missing-url",
    fc.constantFrom<unknown>(undefined, null, "").map((v) => ({ config: { [shape.urlKey]: v, password: core }, expect: config(shape.urlKey) })),
  );

  const garbageUrl = make(
    "garbage-url",
    fc.oneof(
      garbageText.filter((s) => s.length > 0).map((s) => ({ config: { [shape.urlKey]: s, password: core }, expect: config(shape.urlKey) })),
      fc.constantFrom<unknown>(42, true, {}, [], ["postgres://h/db"], Buffer.from("postgres://h/db")).map((v) => ({ config: { [shape.urlKey]: v }, expect: config(shape.urlKey) })),
      fc.tuple(fc.constantFrom("http", "https", "redis", "mongodb", "file", shape.driver === "pg" ? "mysql" : "postgres"), passwordArb(core)).map(([s, pw]) => ({
        config: { [shape.urlKey]: `${s}://u:${encodeURIComponent(pw)}@${closed}/db` },
        expect: config(shape.urlKey),
      })),
      fc.tuple(scheme, passwordArb(core), fc.constantFrom("\n", " ", "\t", "\r\n")).map(([s, pw, ws]) => ({
        config: { [shape.urlKey]: `${s}://u:${encodeURIComponent(pw)}@${closed}/db${ws}` },
        expect: config(shape.urlKey),
      })),
    ),
  );

  // Valid scheme, broken elsewhere: ports, hosts, percent-encoding, raw delimiters in the password.
  const halfValid = make(
    "half-valid-url",
    fc.oneof(
      fc.tuple(scheme, passwordArb(core), fc.constantFrom("0", "65536", "99999", "")).map(([s, pw, port]) => ({
        config: { [shape.urlKey]: `${s}://u:${encodeURIComponent(pw)}@127.0.0.1:${port}/db` },
        expect: config(shape.urlKey),
      })),
      fc.tuple(scheme, passwordArb(core)).map(([s, pw]) => ({ config: { [shape.urlKey]: `${s}://u:${encodeURIComponent(pw)}@/db` }, expect: config(shape.urlKey) })),
      fc.tuple(scheme, fc.constantFrom(`${core}%zz`, `%E0%A4${core}`, `${core}%`)).map(([s, pw]) => ({
        config: { [shape.urlKey]: `${s}://u:${pw}@${closed}/db` },
        expect: config(shape.urlKey),
      })),
      // Raw '@', ':', '#', '/', '?' in the password, an IPv6 literal that is not one, a broken path.
      fc.tuple(scheme, passwordArb(core), fc.constantFrom(closed, "[zz]:1", "[::1]:" + t.closedPort, `${closed}/%zz`, `${closed}?sslmode=${core}x`)).map(([s, pw, rest]) => ({
        config: { [shape.urlKey]: `${s}://u:${pw.replace(/\s/g, "")}@${rest}` },
        // A broken IPv6 literal or database name is reported as such; a raw delimiter in the password may still make a URL.
        expect: rest === "[zz]:1" || rest.endsWith("%zz") ? config(shape.urlKey) : TYPED,
      })),
      fc.tuple(scheme, passwordArb(core)).map(([s, pw]) => ({
        config: { [shape.urlKey]: `${s}://${userinfo("u", pw, "encoded")}${closed}/db?password=${encodeURIComponent(pw)}&ssl=${encodeURIComponent(pw)}` },
        expect: TYPED,
      })),
    ),
  );

  const wrongTypes = make(
    "wrong-type",
    fc.oneof(
      fc.tuple(fc.constantFrom("host", "user", "database"), badStrings).map(([key, v]) => ({
        config: { [shape.urlKey]: `${shape.schemes[0]}://u:${encodeURIComponent(core)}@${closed}/db`, [key]: v },
        expect: config(key),
      })),
      // Only the pool size and the port must be positive; 0 is valid for the others.
      fc.tuple(fc.constantFrom(...shape.integers), badIntegers)
        .filter(([key, v]) => !(key === "port" && typeof v === "string" && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535))
        .filter(([key, v]) => !(v === 0 && key !== shape.poolKey && key !== "port"))
        .map(([key, v]) => ({ config: { host: "127.0.0.1", port: t.closedPort, password: core, [key]: v }, expect: config(key) })),
      fc.constantFrom<unknown>(42, true, null, 12n, Symbol("x"), {}, []).map((v) => ({ config: { host: "127.0.0.1", port: t.closedPort, user: "u", password: v }, expect: config("password") })),
      fc.constantFrom<unknown>("postgres://x", 5, true, [{}]).map((v) => ({ config: v, expect: config("config") })),
    ),
  );

  const poolSize = make(
    "pool-size",
    fc.oneof(
      badIntegers.map((v) => ({ config: { [shape.urlKey]: `${shape.schemes[0]}://u:${encodeURIComponent(core)}@${closed}/db`, [shape.poolKey]: v }, expect: config(shape.poolKey) })),
      fc.constantFrom(10_001, 2 ** 31, 1e9).map((v) => ({ config: { host: "127.0.0.1", port: t.closedPort, password: core, [shape.poolKey]: v }, expect: config(shape.poolKey) })),
      // mysql2 reads pool options from the URI query too (JSON-parsed): they must be checked the same way.
      ...(shape.driver === "mysql2"
        ? [fc.tuple(fc.constantFrom("connectionLimit", "queueLimit", "maxIdle"), fc.constantFrom("0", "-5", "1.5", "1e12")).filter(([k, v]) => !(k !== "connectionLimit" && v === "0"))
            .map(([key, v]) => ({ config: { uri: `mysql://u:${encodeURIComponent(core)}@${closed}/db?${key}=${v}` }, expect: config(key) }))]
        : []),
      fc.integer({ min: 1, max: 10_000 }).map((v) => ({ config: { host: "127.0.0.1", port: t.closedPort, user: "u", password: core, [shape.poolKey]: v }, expect: UNAVAILABLE })),
    ),
  );

  const closedPort = make(
    "closed-port",
    fc.tuple(scheme, passwordArb(core), encodings, fc.constantFrom<Placement>("userinfo", "fields", "query")).map(([s, pw, enc, placement]) => ({
      config:
        placement === "fields" ? { host: "127.0.0.1", port: t.closedPort, user: "u", password: pw, database: "db" }
        : placement === "query" ? { [shape.urlKey]: `${s}://u@${closed}/db?sslmode=disable&password=${encodeURIComponent(pw)}` }
        : { [shape.urlKey]: `${s}://${userinfo("u", pw.replace(/[\s/?#]/g, ""), enc)}${closed}/db` },
      // A raw "%zz" in the password is a malformed URL, and must be reported as one.
      expect: placement === "userinfo" && enc === "raw" && pw.includes("%zz") ? config(shape.urlKey) : UNAVAILABLE,
    })),
  );

  const invalidHost = make(
    "invalid-host",
    fc.tuple(fc.constantFrom("db.invalid", "nope.invalid", "xn--bcher-kva.invalid", "a-b.c.invalid"), passwordArb(core)).map(([host, pw]) => ({
      config: { [shape.urlKey]: `${shape.schemes[0]}://${userinfo("u", pw, "encoded")}${host}:5432/db` },
      expect: UNAVAILABLE,
    })),
  );

  const unicode = make(
    "unicode",
    fc.tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }), passwordArb(core), encodings, fc.boolean()).map(([text, pw, enc, asFields]) => ({
      config: asFields
        ? { host: "127.0.0.1", port: t.closedPort, user: text, password: `${pw}${text}`, database: text }
        : { [shape.urlKey]: `${shape.schemes[0]}://${userinfo(encodeURIComponent(text), `${pw}${text}`.replace(enc === "raw" ? /[\s/?#@]/g : /$^/, ""), enc)}${closed}/${encodeURIComponent(text)}` },
      expect: TYPED,
    })),
  );

  const realOptions = fc.record({
    connectTimeoutMs: fc.oneof({ arbitrary: fc.integer({ min: 5000, max: 12_000 }), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 15 }), weight: 1 }),
    healthTimeoutMs: fc.integer({ min: 500, max: 2000 }),
    closeTimeoutMs: fc.integer({ min: 1000, max: 3000 }),
    retry: fc.record({ cooldownMs: fc.integer({ min: 0, max: 500 }) }),
  });

  // Real server. MariaDB rejects the canary (a wrong password); the local
  // PostgreSQL uses trust authentication, so any password connects there.
  const real = fc
    .tuple(fc.boolean(), passwordArb(core), fc.constantFrom<Placement>("userinfo", "fields", "query"), encodings, fc.integer({ min: 1, max: 4 }), realOptions, echoes)
    .map(([right, pw, placement, enc, size, options, echo]): FuzzCase => {
      const password = right && shape.checksPasswords ? t.mysql.password : pw;
      const pgUrl = new URL(t.pgUrl);
      // The query keeps a raw password only where it stays one parameter.
      const inQuery = enc === "raw" && /^[^\s&#%+=?/]*$/.test(password) ? password : encodeURIComponent(password);
      let url: string | undefined;
      let base: Record<string, unknown>;
      if (placement === "fields") {
        base = shape.driver === "pg"
          ? { host: pgUrl.hostname, port: Number(pgUrl.port || 5432), database: pgUrl.pathname.slice(1), user: decodeURIComponent(pgUrl.username) || "postgres", password }
          : { host: t.mysql.host, port: t.mysql.port, user: t.mysql.user, password, database: t.mysql.database };
      } else {
        url = placement === "userinfo" ? shape.realUrl(t, password, "encoded") : `${shape.realUrl(t, undefined, "encoded")}?password=${inQuery}`;
        base = { [shape.urlKey]: url };
      }
      const tiny = (options.connectTimeoutMs as number) < 100;
      // mysql2 takes no password from the query string (only pg does).
      const rightPassword = shape.checksPasswords && password === t.mysql.password && placement !== "query";
      const accepted = rightPassword || !shape.checksPasswords;
      const onConnect = echoingOnConnect(echo, url, password);
      return {
        driver: shape.driver,
        family: rightPassword ? "real-server" : shape.checksPasswords ? "wrong-password" : "wrong-password-trust-auth",
        config: { ...base, ...shape.realExtras(t), [shape.poolKey]: size },
        options: onConnect ? { ...options, onConnect } : options,
        // A wrong password is a rejected configuration, not an outage; a tiny connect deadline may still fire first.
        expect: !accepted ? (tiny ? REJECTED : config("credentials")) : onConnect ? UNAVAILABLE : tiny ? EITHER : CONNECTED,
      };
    });

  return fc.oneof(
    { arbitrary: missing, weight: 3 },
    { arbitrary: garbageUrl, weight: 5 },
    { arbitrary: halfValid, weight: 5 },
    { arbitrary: wrongTypes, weight: 6 },
    { arbitrary: poolSize, weight: 4 },
    { arbitrary: closedPort, weight: 6 },
    { arbitrary: invalidHost, weight: 1 },
    { arbitrary: unicode, weight: 3 },
    { arbitrary: real, weight: 1 },
  );
}

function mongoCases(t: FuzzTargets, core: string): fc.Arbitrary<FuzzCase> {
  const closed = `127.0.0.1:${t.closedPort}`;
  // Server selection gives up quickly on a closed port; the deadline bounds the rest.
  const quick = fc.record({ serverSelectionTimeoutMS: fc.integer({ min: 30, max: 300 }) });
  const make = (family: string, cfg: fc.Arbitrary<{ config: unknown; expect: Expectation }>, options = fastOptions) =>
    fc.tuple(cfg, options).map(([c, o]): FuzzCase => ({ driver: "mongodb", family, config: c.config, options: o, expect: c.expect }));

  const missing = make("missing-url", fc.constantFrom<unknown>(undefined, null, "").map((v) => ({ config: { url: v, dbName: "db", auth: { username: "u", password: core } }, expect: config("url") })));
  const garbageUrl = make(
    "garbage-url",
    fc.oneof(
      garbageText.filter((s) => s.length > 0).map((s) => ({ config: { url: s, dbName: "db" }, expect: config("url") })),
      fc.constantFrom<unknown>(42, {}, [], true).map((v) => ({ config: { url: v, dbName: "db" }, expect: config("url") })),
      fc.constantFrom<unknown>(undefined, null, 5, "mongodb://h/db").map((v) => ({ config: v, expect: config(v === undefined ? "url" : "config") })),
      passwordArb(core).map((pw) => ({ config: { url: `postgres://u:${encodeURIComponent(pw)}@${closed}/db` }, expect: config("url") })),
    ),
  );
  const halfValid = make(
    "half-valid-url",
    fc.oneof(
      fc.tuple(passwordArb(core), fc.constantFrom("0", "70000", "")).map(([pw, port]) => ({ config: { url: `mongodb://u:${encodeURIComponent(pw)}@127.0.0.1:${port}/db` }, expect: config("url") })),
      passwordArb(core).map((pw) => ({ config: { url: `mongodb://u:${encodeURIComponent(pw)}@${closed}` }, expect: config("dbName") })),
      fc.tuple(passwordArb(core), quick, fc.constantFrom(`${closed}/db`, `${closed}/db?maxPoolSize=abc`, `${closed}/db?password=PW`, `x.invalid:27017/db`, `${closed}/db?authMechanism=PW`, `[zz]/db`))
        .map(([pw, q, rest]) => ({
          config: { url: `mongodb${rest.startsWith("x.") ? "+srv" : ""}://u:${pw.replace(/\s/g, "")}@${rest.replace("PW", encodeURIComponent(pw))}`, ...q },
          expect: TYPED,
        })),
    ),
  );
  const wrongTypes = make(
    "wrong-type",
    fc.oneof(
      fc.tuple(fc.constantFrom("maxPoolSize", "minPoolSize", "serverSelectionTimeoutMS", "connectTimeoutMS", "socketTimeoutMS", "maxIdleTimeMS", "waitQueueTimeoutMS"), badIntegers)
        .filter(([k, v]) => !(k !== "maxPoolSize" && v === 0))
        .map(([key, v]) => ({ config: { url: `mongodb://u:${encodeURIComponent(core)}@${closed}/db`, [key]: v }, expect: config(key) })),
      badStrings.map((v) => ({ config: { url: `mongodb://${closed}/db`, dbName: v, auth: { username: "u", password: core } }, expect: config("dbName") })),
    ),
  );
  const closedPort = make(
    "closed-port",
    fc.tuple(passwordArb(core), quick, fc.boolean()).map(([pw, q, inAuth]) => ({
      config: inAuth
        ? { url: `mongodb://${closed}`, dbName: "db", auth: { username: "u", password: pw }, ...q }
        : { url: `mongodb://${userinfo("u", pw, "encoded")}${closed}/db`, ...q },
      expect: UNAVAILABLE,
    })),
  );
  const unicode = make(
    "unicode",
    fc.tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }), passwordArb(core), quick).map(([text, pw, q]) => ({
      config: { url: `mongodb://${userinfo(encodeURIComponent(text), pw + text, "encoded")}${closed}/${encodeURIComponent(text)}`, ...q },
      expect: TYPED,
    })),
  );
  // Generous timeouts: the wire server runs in this busy process, and real
  // connects must not fail for want of time on a loaded machine. The server
  // checks passwords (the wire server as mongod --auth does): the canary as a
  // password is refused with code 18, a misconfiguration, not an outage; the
  // user's real password connects, and so does no credential at all (hello and
  // ping need none).
  type MongoAuth = "none" | "wrong" | "right";
  const auths: MongoAuth[] = t.mongoUser ? ["none", "wrong", "right"] : ["none", "wrong"];
  const real = fc
    .tuple(fc.constantFrom(...auths), passwordArb(core), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5000, max: 10_000 }), fc.boolean())
    .map(([auth, pw, size, selection, tiny]): FuzzCase => {
      const user = t.mongoUser?.user ?? "ndc_fuzz_nobody";
      const authSource = t.mongoUser?.db ?? "admin";
      const url =
        auth === "none" ? t.mongoUri : mongoUrl(withCredentials(t.mongoUri, user, auth === "right" ? t.mongoUser!.password : pw), "fuzz", { authSource });
      return {
        driver: "mongodb",
        family: auth === "wrong" ? "wrong-password" : "real-server",
        config: { url, dbName: "fuzz", maxPoolSize: size, serverSelectionTimeoutMS: selection },
        options: { connectTimeoutMs: tiny ? 5 : 12_000, healthTimeoutMs: 1000, closeTimeoutMs: 2000, retry: { cooldownMs: 0 } },
        // A wrong password is a rejected configuration (setting "credentials"), as for mysql2; a tiny deadline may fire first.
        expect: auth === "wrong" ? (tiny ? REJECTED : config("credentials")) : tiny ? EITHER : CONNECTED,
      };
    });

  return fc.oneof(
    { arbitrary: missing, weight: 3 },
    { arbitrary: garbageUrl, weight: 5 },
    { arbitrary: halfValid, weight: 4 },
    { arbitrary: wrongTypes, weight: 6 },
    { arbitrary: closedPort, weight: 4 },
    { arbitrary: unicode, weight: 2 },
    { arbitrary: real, weight: 1 },
  );
}

/** defineAdapter() definitions and createDatabase() arguments that are not adapters at all. */
function customCases(core: string): fc.Arbitrary<FuzzCase> {
  const definitions = fc.oneof(
    fc.constantFrom<unknown>(undefined, null, 5, "pg", []).map((v) => ({ config: { notAnAdapter: v }, expect: config("adapter") })),
    fc.tuple(fc.constantFrom("kind", "connect", "close", "db", "ping", "stats", "isUnavailableError"), fc.constantFrom<unknown>(5, "x", {}, null))
      .filter(([key, v]) => !(key === "kind" && v === "x"))
      .map(([key, v]) => ({ config: { definition: { kind: "fuzz", connect: () => ({}), close: () => {}, [key]: v } }, expect: config(key) })),
    // connect() throwing whatever a library might throw; the canary is declared as a secret.
    fc.constantFrom<() => unknown>(
      () => new Error(`auth failed for postgres://u:${core}@h/db`),
      () => Object.assign(new Error(`password ${core} rejected`), { code: { toString: () => core } }),
      () => Object.create(null),
      () => ({ message: { toString: null } }),
      () => ({ get message(): string { throw new Error(core); } }),
      () => `${core} as a string`,
      () => undefined,
      () => Symbol(core),
    ).map((thrown) => ({
      config: { definition: { kind: "fuzz", secrets: [core], connect: () => { throw thrown(); }, close: () => {} } },
      expect: UNAVAILABLE,
    })),
  );
  return fc.tuple(definitions, fastOptions).map(([d, options]): FuzzCase => ({ driver: "custom", family: "custom-adapter", config: d.config, options, expect: d.expect }));
}

/** createDatabase() options that are wrong, on an adapter that would otherwise reach a closed port. */
function badOptionCases(t: FuzzTargets, core: string): fc.Arbitrary<FuzzCase> {
  const adapter = fc.constantFrom<Driver>("pg", "mysql2", "mongodb").map((driver) => ({
    driver,
    config:
      driver === "pg" ? { connectionString: `postgres://u:${encodeURIComponent(core)}@127.0.0.1:${t.closedPort}/db` }
      : driver === "mysql2" ? { uri: `mysql://u:${encodeURIComponent(core)}@127.0.0.1:${t.closedPort}/db` }
      : { url: `mongodb://u:${encodeURIComponent(core)}@127.0.0.1:${t.closedPort}/db`, serverSelectionTimeoutMS: 100 },
  }));
  return fc.oneof(
    fc.tuple(adapter, badDatabaseOptions).map(([a, bad]): FuzzCase => ({
      driver: a.driver, family: "bad-options", config: a.config,
      options: { connectTimeoutMs: 500, ...bad.options }, expect: config(bad.setting),
    })),
    fc.tuple(adapter, fc.constantFrom<unknown>("options", 5, true, Symbol("o"))).map(([a, raw]): FuzzCase => ({
      driver: a.driver, family: "bad-options", config: a.config, options: {}, rawOptions: raw, expect: config("options"),
    })),
    fc.tuple(adapter, fc.constantFrom<unknown>("", 5, {}, [], null)).map(([a, name]): FuzzCase => ({
      driver: a.driver, family: "bad-options", config: a.config, options: { name }, expect: config("name"),
    })),
  );
}

/** Every family, weighted so that real connects stay a few percent of the run. */
export function fuzzCaseArb(t: FuzzTargets, core: string): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { arbitrary: sqlCases(PG, t, core), weight: 30 },
    { arbitrary: sqlCases(MYSQL, t, core), weight: 30 },
    { arbitrary: mongoCases(t, core), weight: 25 },
    { arbitrary: customCases(core), weight: 7 },
    { arbitrary: badOptionCases(t, core), weight: 8 },
  );
}
