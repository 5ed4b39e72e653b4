import { DatabaseConfigError } from "../errors.js";
import { show } from "../options.js";

/**
 * Checks shared by the adapters. Messages name the adapter and the option, and
 * never echo a string value: it may be a password or a connection string.
 */
export class ConfigCheck {
  /**
   * Options the driver will read from the URL's query string, for schemes
   * whose driver does that (see QUERY_AS_OPTIONS). Set by `url()`.
   */
  private fromUrl: Map<string, unknown> | undefined;

  constructor(
    private readonly database: string,
    private readonly adapter: string,
    private readonly config: Record<string, unknown>,
  ) {}

  fail(setting: string, problem: string): never {
    throw new DatabaseConfigError(this.database, setting, `${this.adapter} option "${setting}" ${problem}`);
  }

  /** A key written but empty, the signature of an unset environment variable. */
  private presentButEmpty(key: string): boolean {
    if (!(key in this.config)) return false;
    const value = this.config[key];
    return value === undefined || value === null || value === "";
  }

  /**
   * A connection URL: required, or optional (absent means "use host, port...").
   * `schemes` lists accepted schemes without "://".
   */
  url(key: string, schemes: readonly string[], required: boolean): string | undefined {
    if (this.presentButEmpty(key) || (required && !(key in this.config))) {
      this.fail(key, `is ${show(this.config[key])}. Set it, usually from an environment variable (was it missing at runtime?).`);
    }
    const value = this.config[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") this.fail(key, `must be a string, got ${show(value)}.`);
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (!scheme || !schemes.includes(scheme)) {
      this.fail(key, `must start with ${schemes.map((s) => `${s}://`).join(" or ")}${scheme ? `, got ${scheme}://` : ""}.`);
    }
    if (/\s/.test(value)) this.fail(key, "contains whitespace; check for a stray newline or space.");
    const authority = value.slice(scheme.length + 3).split(/[/?#]/, 1)[0] ?? "";
    const hosts = authority.slice(authority.lastIndexOf("@") + 1);
    if (hosts.length === 0 && !value.includes("host=")) this.fail(key, "has no host.");
    for (const host of hosts.split(",")) {
      const port = /:(\d*)$/.exec(host.replace(/^\[[^\]]*\]/, ""))?.[1];
      if (port !== undefined && (port === "" || Number(port) < 1 || Number(port) > 65535)) {
        this.fail(key, "has an invalid port.");
      }
    }
    try {
      decodeURIComponent(authority);
    } catch {
      this.fail(key, "has a malformed percent-encoding in its user or password part.");
    }
    const path = value.slice(scheme.length + 3 + authority.length).split(/[?#]/, 1)[0] ?? "";
    try {
      decodeURIComponent(path);
    } catch {
      this.fail(key, "has a malformed percent-encoding in its database name.");
    }
    // One host: the drivers parse it as a WHATWG URL, so an unparseable one
    // (a raw "#", "/" or "?" in the password, a broken IPv6 literal) would
    // otherwise surface as a 503 at every connect attempt. Several hosts
    // (mongodb://a,b) are not WHATWG URLs; their drivers check them.
    if (hosts.length > 0 && !hosts.includes(",") && !parsesAsUrl(value)) {
      this.fail(key, "is not a valid URL; percent-encode any @ : / ? # in the user name and password.");
    }
    if (QUERY_AS_OPTIONS.has(scheme)) this.fromUrl = queryOptions(value);
    return value;
  }

  /**
   * The value the driver will use: the option itself, or, for mysql2, the
   * URL's query parameter of that name when the option is not set to a truthy
   * value (mysql2's own precedence rule).
   */
  private value(key: string): unknown {
    return this.fromQuery(key) ? this.fromUrl!.get(key) : this.config[key];
  }

  /** True when the value checked for `key` is the one from the URL's query string. */
  private fromQuery(key: string): boolean {
    return !this.config[key] && this.fromUrl !== undefined && this.fromUrl.has(key);
  }

  string(key: string): void {
    const value = this.value(key);
    if (value === undefined) return;
    if (typeof value !== "string" || value.length === 0) this.failAt(key, `must be a non-empty string, got ${show(value)}.`);
  }

  /** `fail()`, saying so when the value came from the URL. */
  private failAt(key: string, problem: string): never {
    if (!this.fromQuery(key)) this.fail(key, problem);
    throw new DatabaseConfigError(this.database, key, `${this.adapter} option "${key}" (from the URL's query string) ${problem}`);
  }

  /**
   * A password: any string, the empty one included. The message names only
   * the type, since even a mistyped password (a number) is a secret.
   */
  password(key: string): void {
    const value = this.value(key);
    if (value === undefined) return;
    if (typeof value !== "string") this.failAt(key, `must be a string, got ${Array.isArray(value) ? "an array" : `a ${typeof value}`}.`);
  }

  /** Strings or functions returning them (pg accepts a password function). */
  stringOrFunction(key: string): void {
    const value = this.value(key);
    if (value === undefined || typeof value === "function") return;
    if (typeof value !== "string") this.failAt(key, `must be a string or a function, got ${show(value)}.`);
  }

  integer(key: string, min: number, max: number): void {
    const value = this.value(key);
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.failAt(key, `must be an integer from ${min} to ${max}, got ${show(value)}.`);
    }
  }

  port(key: string): void {
    const value = this.value(key);
    if (typeof value === "string" && /^\d+$/.test(value)) return this.integerString(key, Number(value));
    this.integer(key, 1, 65535);
  }

  private integerString(key: string, value: number): void {
    if (value < 1 || value > 65535) this.fail(key, `must be a port from 1 to 65535, got ${value}.`);
  }

  boolean(key: string): void {
    const value = this.value(key);
    if (value !== undefined && typeof value !== "boolean") this.failAt(key, `must be true or false, got ${show(value)}.`);
  }
}

function parsesAsUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Schemes whose driver copies the URL's query parameters into its options:
 * mysql2 turns `mysql://h/db?connectionLimit=0` into `connectionLimit: 0`
 * (each value JSON-parsed, else kept as a string), so a pool size written in
 * the URL must be checked like one written as an option. The URL's own parts
 * (host, port, user, password, database) are not taken from the query.
 */
const QUERY_AS_OPTIONS = new Set(["mysql", "mariadb"]);
const URL_PARTS = new Set(["host", "port", "user", "password", "database"]);

function queryOptions(url: string): Map<string, unknown> {
  const options = new Map<string, unknown>();
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return options; // the driver will reject the URL itself
  }
  for (const [key, raw] of params) {
    if (URL_PARTS.has(key)) continue;
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // mysql2 keeps it as a string
    }
    options.set(key, value); // repeated: the last one wins, as in mysql2
  }
  return options;
}

/** The options object itself; `undefined` means "driver defaults". */
export function configObject(database: string, adapter: string, config: unknown): Record<string, unknown> {
  if (config === undefined) return {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new DatabaseConfigError(database, "config", `${adapter}() takes an options object, got ${show(config)}.`);
  }
  return config as Record<string, unknown>;
}

/** Largest pool size accepted: beyond it, the database's own limit is the problem. */
export const MAX_POOL_SIZE = 10_000;
