// Loaded into `next start` with NODE_OPTIONS=--import, before any app code:
// counts driver-level connects, without asking the code under test.
//
//   pg       a Pool constructed, or a standalone Client constructed (clients a
//            pool creates use pg's internal class and are not counted: they
//            are the pool's connections, counted on the server instead)
//   mysql2   createPool() or createConnection() called (mysql2/promise)
//   mongodb  the first connect() of each MongoClient
//
// Counts are kept per server identity (pg application_name, MySQL user,
// MongoDB appName), because Next.js evaluates every route module when it
// starts (preloadEntriesOnStart): strategy b's module-scope pools are created
// in every process, whichever route the bench then calls.
//
// The drivers are external to the Next.js bundles (next.config.mjs), so the
// app, the package and this file share one instance of each module.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const counts = { pg: {}, mysql2: {}, mongodb: {} };
globalThis.__benchDriverConnects = counts;

function count(driver, identity) {
  const key = identity || "unknown";
  counts[driver][key] = (counts[driver][key] ?? 0) + 1;
}

function urlPart(url, read) {
  try {
    return read(new URL(url));
  } catch {
    return undefined;
  }
}

function pgIdentity(config) {
  if (typeof config === "string") return urlPart(config, (u) => u.searchParams.get("application_name"));
  return config?.application_name ?? urlPart(config?.connectionString, (u) => u.searchParams.get("application_name"));
}

function mysqlIdentity(config) {
  if (typeof config === "string") return urlPart(config, (u) => decodeURIComponent(u.username));
  return config?.user ?? urlPart(config?.uri, (u) => decodeURIComponent(u.username));
}

const pg = require("pg");
const { Pool, Client } = pg;
pg.Pool = class CountedPool extends Pool {
  constructor(config, ...rest) {
    super(config, ...rest);
    count("pg", pgIdentity(config));
  }
};
pg.Client = class CountedClient extends Client {
  constructor(config, ...rest) {
    super(config, ...rest);
    count("pg", pgIdentity(config));
  }
};

const mysql = require("mysql2/promise");
for (const name of ["createPool", "createConnection"]) {
  const original = mysql[name];
  mysql[name] = function counted(config, ...rest) {
    count("mysql2", mysqlIdentity(config));
    return original.call(this, config, ...rest);
  };
}

const { MongoClient } = require("mongodb");
const connected = new WeakSet();
const connect = MongoClient.prototype.connect;
MongoClient.prototype.connect = function countedConnect(...args) {
  if (!connected.has(this)) {
    connected.add(this);
    count("mongodb", this.options?.appName);
  }
  return connect.apply(this, args);
};
