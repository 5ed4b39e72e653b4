// Where every MongoDB test runs: the mongod named by MONGODB_URI when it is
// set, otherwise a fresh in-process wire-protocol server (no mongod can be
// installed on this project's machines).
//
// Tests that need what only the wire server has (stopping it, dropping its
// sockets, delaying its replies, its own count of connections, users it was
// started with) get their server from `wireServerTarget()` and are skipped
// under MONGODB_URI through `needsWireServer(reason)`, which prints why.
import { MongoWireServer, type MongoWireServerOptions } from './mongo-wire/index.js';

/** The real mongod's connection string, or null when the tests use the wire server. */
export const REAL_MONGOD_URI: string | null = process.env.MONGODB_URI || null;

/** How figures and messages name the MongoDB server in use. */
export const MONGO_LABEL = REAL_MONGOD_URI ? 'MongoDB' : 'MongoDB (wire server)';

export interface MongoTarget {
  /** Connection string without a database path (MONGODB_URI as given, or mongodb://127.0.0.1:PORT). */
  uri: string;
  /** null when testing against a real mongod: no fault controls, no connection table. */
  server: MongoWireServer | null;
  close(): Promise<void>;
}

export interface WireServerTarget extends MongoTarget {
  server: MongoWireServer;
}

/**
 * The server for a MongoDB test: MONGODB_URI's mongod, or a fresh wire server
 * started with `options` (its users, for instance; a real mongod has its own).
 */
export async function mongoTarget(options: MongoWireServerOptions = {}): Promise<MongoTarget> {
  if (REAL_MONGOD_URI) return { uri: REAL_MONGOD_URI, server: null, close: async () => {} };
  return wireServerTarget(options);
}

/** Always a wire server: for tests skipped under MONGODB_URI (see `needsWireServer`). */
export async function wireServerTarget(options: MongoWireServerOptions = {}): Promise<WireServerTarget> {
  const server = new MongoWireServer(options);
  const uri = await server.start();
  return { uri, server, close: () => server.stop() };
}

const printed = new Set<string>();

/**
 * True when MONGODB_URI is set, so a test that needs the wire server must be
 * skipped: `describe.skipIf(needsWireServer("its killAllConnections()"))(…)`.
 * Prints the reason once, so a run against a real mongod says what it left out.
 */
export function needsWireServer(reason: string): boolean {
  if (!REAL_MONGOD_URI) return false;
  const line = `[MONGODB_URI] skipped, needs the wire server's ${reason}`;
  if (!printed.has(line)) {
    printed.add(line);
    console.warn(line);
  }
  return true;
}

/** `base` with `user:password@` as its userinfo, replacing any MONGODB_URI carries. */
export function withCredentials(base: string, user: string, password: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/?]*@)?(.*)$/.exec(base);
  if (!match) throw new Error('withCredentials: not a mongodb:// connection string');
  return `${match[1]}${encodeURIComponent(user)}:${encodeURIComponent(password)}@${match[2]}`;
}

/**
 * `base` (a target's uri) with `dbName` as its path and `query` added, whatever
 * MONGODB_URI already holds (a path, options, several hosts).
 */
export function mongoUrl(base: string, dbName: string, query: Record<string, string | number> = {}): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(?:\?(.*))?$/.exec(base);
  if (!match) throw new Error('mongoUrl: not a mongodb:// connection string');
  const params = new URLSearchParams(match[2] ?? '');
  for (const [k, v] of Object.entries(query)) params.set(k, String(v));
  const search = params.toString();
  return `${match[1]}/${dbName}${search ? `?${search}` : ''}`;
}
