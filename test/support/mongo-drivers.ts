// The two official driver majors the MongoDB tests run against, behind one
// type so a test body is written once. At runtime each entry is that major's
// own MongoClient and MongoServerError.
import { MongoClient, MongoServerError, type MongoClientOptions } from 'mongodb';
import { MongoClient as MongoClientV6, MongoServerError as MongoServerErrorV6 } from 'mongodb-v6';
import type { MongoTarget } from './mongodb-target.js';

export interface MongoDriver {
  label: string;
  /** '7.' or '6.': the prefix of the driver version the server sees in the handshake. */
  major: string;
  make(uri: string, options?: MongoClientOptions): MongoClient;
  /** The error class that driver raises for a server error reply. */
  isServerError(e: unknown): e is MongoServerError;
}

export const mongoDrivers: MongoDriver[] = [
  {
    label: 'mongodb 7.x',
    major: '7.',
    make: (uri, options) => new MongoClient(uri, { serverSelectionTimeoutMS: 2000, ...options }),
    isServerError: (e): e is MongoServerError => e instanceof MongoServerError,
  },
  {
    label: 'mongodb 6.x',
    major: '6.',
    // Cast only for the shared test body's types; at runtime this is the real 6.x driver.
    make: (uri, options) =>
      new MongoClientV6(uri, { serverSelectionTimeoutMS: 2000, ...(options as object) }) as unknown as MongoClient,
    isServerError: (e): e is MongoServerError => e instanceof MongoServerErrorV6,
  },
];

/** Drops the database a test file wrote to (a real mongod would keep it), then stops the target. */
export async function dropDatabaseAndClose(target: MongoTarget | undefined, dbName: string): Promise<void> {
  if (target) {
    const c = mongoDrivers[0]!.make(target.uri);
    await c.db(dbName).dropDatabase();
    await c.close();
  }
  await target?.close();
}
