// Where MongoDB tests run: a real mongod when MONGODB_URI is set, otherwise a
// fresh in-process wire-protocol server (no mongod can be installed here).
import { MongoWireServer } from './mongo-wire/index.js';

export interface MongoTarget {
  uri: string;
  /** null when testing against a real mongod: fault controls are unavailable. */
  server: MongoWireServer | null;
  close(): Promise<void>;
}

export async function mongoTarget(): Promise<MongoTarget> {
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external, server: null, close: async () => {} };
  const server = new MongoWireServer();
  const uri = await server.start();
  return { uri, server, close: () => server.stop() };
}
