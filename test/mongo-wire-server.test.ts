// Proves the official MongoDB drivers (7.x and 6.x) work against the test
// wire-protocol server over real TCP. With MONGODB_URI set, the same data
// tests run against a real mongod instead.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoClient, MongoNetworkError, MongoServerError, MongoServerSelectionError, type MongoClientOptions } from 'mongodb';
import { MongoClient as MongoClientV6, MongoServerError as MongoServerErrorV6 } from 'mongodb-v6';
import type { MongoWireServer } from './support/mongo-wire/index.js';
import { mongoTarget, needsWireServer, type MongoTarget } from './support/mongodb-target.js';

// One database per test file, so runs against a shared mongod do not collide.
const DB_NAME = 'ndc_mongo_wire_server_test';

// Fault controls and server-side connection counts exist only on the local
// wire server; a real mongod (MONGODB_URI) has no equivalent, so those suites skip.
let target: MongoTarget;
let server: MongoWireServer | null = null;
const clients: Array<{ close(): Promise<void> }> = [];

function local(): MongoWireServer {
  if (!server) throw new Error('this test needs the local wire server');
  return server;
}

function client(options: MongoClientOptions = {}): MongoClient {
  const c = new MongoClient(target.uri, { serverSelectionTimeoutMS: 2000, ...options });
  clients.push(c);
  return c;
}

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  target = await mongoTarget();
  server = target.server;
  const c = client();
  await c.db(DB_NAME).dropDatabase();
  await c.close();
});

afterEach(async () => {
  server?.setReplyDelay(0);
  server?.refuseConnections(false);
  server?.failNextCommands(0);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  if (target && server?.listening !== false) {
    const c = new MongoClient(target.uri, { serverSelectionTimeoutMS: 2000 });
    await c.db(DB_NAME).dropDatabase();
    await c.close();
  }
  await target?.close();
});

type Driver = {
  label: string;
  make: (uri: string, options?: MongoClientOptions) => MongoClient;
  isServerError: (e: unknown) => boolean;
  major: string;
};

const drivers: Driver[] = [
  {
    label: 'mongodb 7.x',
    make: (uri, options) => new MongoClient(uri, { serverSelectionTimeoutMS: 2000, appName: 'round-trip-v7', ...options }),
    isServerError: (e) => e instanceof MongoServerError,
    major: '7.',
  },
  {
    label: 'mongodb 6.x',
    // Cast only for the shared test body's types; at runtime this is the real 6.x driver.
    make: (uri, options) =>
      new MongoClientV6(uri, { serverSelectionTimeoutMS: 2000, appName: 'round-trip-v6', ...(options as object) }) as unknown as MongoClient,
    isServerError: (e) => e instanceof MongoServerErrorV6,
    major: '6.',
  },
];

describe.each(drivers)('CRUD round trip with $label', ({ label, make, isServerError, major }) => {
  it('inserts, finds, updates, deletes and counts', async () => {
    const c = make(target.uri);
    clients.push(c);
    const coll = c.db(DB_NAME).collection<{ _id?: unknown; name: string; n: number; tag?: string; extra?: boolean }>(
      `crud_${major.replace('.', '')}`,
    );

    const one = await coll.insertOne({ name: 'ada', n: 1 });
    expect(one.acknowledged).toBe(true);
    const many = await coll.insertMany([
      { name: 'bob', n: 2, tag: 'x' },
      { name: 'cy', n: 3, tag: 'x' },
      { name: 'di', n: 4, tag: 'y' },
    ]);
    expect(many.insertedCount).toBe(3);

    const ada = await coll.findOne({ name: 'ada' });
    expect(ada?._id?.toString()).toBe(one.insertedId.toString());
    expect(ada?.n).toBe(1);

    const sorted = await coll.find({ n: { $gte: 2 } }, { projection: { _id: 0, name: 1 } }).sort({ n: -1 }).toArray();
    expect(sorted).toEqual([{ name: 'di' }, { name: 'cy' }, { name: 'bob' }]);
    expect(await coll.find({}).sort({ n: 1 }).skip(1).limit(2).map((d) => d.name).toArray()).toEqual(['bob', 'cy']);

    const set = await coll.updateOne({ name: 'ada' }, { $set: { tag: 'z' }, $inc: { n: 10 } });
    expect([set.matchedCount, set.modifiedCount]).toEqual([1, 1]);
    expect(await coll.findOne({ name: 'ada' }, { projection: { _id: 0 } })).toEqual({ name: 'ada', n: 11, tag: 'z' });

    const noop = await coll.updateOne({ name: 'ada' }, { $set: { tag: 'z' } });
    expect([noop.matchedCount, noop.modifiedCount]).toEqual([1, 0]);

    const up = await coll.updateOne({ name: 'eve' }, { $set: { n: 5 } }, { upsert: true });
    expect(up.upsertedCount).toBe(1);
    expect(await coll.findOne({ _id: up.upsertedId as never }, { projection: { _id: 0 } })).toEqual({ name: 'eve', n: 5 });

    const multi = await coll.updateMany({ tag: 'x' }, { $set: { extra: true } });
    expect([multi.matchedCount, multi.modifiedCount]).toEqual([2, 2]);
    expect(await coll.countDocuments({ extra: true })).toBe(2);

    const replaced = await coll.replaceOne({ name: 'di' }, { name: 'di', n: 40 });
    expect(replaced.modifiedCount).toBe(1);
    expect(await coll.findOne({ name: 'di' }, { projection: { _id: 0 } })).toEqual({ name: 'di', n: 40 });

    const after = await coll.findOneAndUpdate({ name: 'bob' }, { $inc: { n: 100 } }, { returnDocument: 'after' });
    expect(after?.n).toBe(102);

    expect(await coll.estimatedDocumentCount()).toBe(5);
    expect(await coll.countDocuments({ n: { $gt: 10 } })).toBe(3);

    expect((await coll.deleteOne({ name: 'eve' })).deletedCount).toBe(1);
    expect((await coll.deleteMany({ tag: 'x' })).deletedCount).toBe(2);
    expect(await coll.find({}, { projection: { _id: 0, name: 1 } }).sort({ name: 1 }).toArray()).toEqual([
      { name: 'ada' },
      { name: 'di' },
    ]);

    const dup = await coll.insertOne({ _id: ada?._id, name: 'again', n: 0 }).catch((e: unknown) => e);
    expect(isServerError(dup), `${label} should raise its own MongoServerError`).toBe(true);
    expect((dup as MongoServerError).code).toBe(11000);

    if (server) {
      const handshake = server.connections().find((info) => info.appName === `round-trip-v${major[0]}`);
      expect(handshake?.driverName).toMatch(/^nodejs/);
      expect(handshake?.driverVersion?.startsWith(major)).toBe(true);
    }
  });
});

describe('queries and cursors', () => {
  it('streams a cursor across several batches with getMore', async () => {
    const coll = client().db(DB_NAME).collection<{ i: number }>('batches');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const getMoresBefore = server?.commandCount('getMore') ?? 0;

    const docs = await coll.find({}, { batchSize: 20 }).sort({ i: 1 }).toArray();

    expect(docs.map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    // 20 in the first batch, then ceil(230 / 20) = 12 getMores.
    if (server) expect(server.commandCount('getMore') - getMoresBefore).toBe(12);
  });

  it('kills a cursor that is closed before it is exhausted', async () => {
    const coll = client().db(DB_NAME).collection<{ i: number }>('early_close');
    await coll.insertMany(Array.from({ length: 30 }, (_, i) => ({ i })));
    const killsBefore = server?.commandCount('killCursors') ?? 0;
    const cursor = coll.find({}, { batchSize: 10 });
    expect((await cursor.next())?.i).toBeTypeOf('number');
    expect(cursor.id?.isZero()).toBe(false);
    await cursor.close();
    expect(cursor.killed).toBe(true);
    if (server) {
      expect(server.commandCount('killCursors') - killsBefore).toBe(1);
      expect(server.openCursorCount).toBe(0);
    }
  });

  it('runs an aggregation pipeline with $match, $group and $sort', async () => {
    const coll = client().db(DB_NAME).collection('sales');
    await coll.insertMany([
      { item: 'a', qty: 2, region: 'eu' },
      { item: 'b', qty: 5, region: 'eu' },
      { item: 'a', qty: 3, region: 'us' },
      { item: 'c', qty: 1, region: 'eu' },
      { item: 'b', qty: 7, region: 'apac' },
    ]);
    const result = await coll
      .aggregate([
        { $match: { region: { $in: ['eu', 'us'] } } },
        { $group: { _id: '$item', total: { $sum: '$qty' }, orders: { $sum: 1 } } },
        { $sort: { total: -1, _id: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 'a', total: 5, orders: 2 },
      { _id: 'b', total: 5, orders: 1 },
      { _id: 'c', total: 1, orders: 1 },
    ]);
    expect(await coll.countDocuments({ region: 'eu' })).toBe(3);
    expect(await coll.estimatedDocumentCount()).toBe(5);
    expect((await coll.distinct('item')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('lists collections and indexes, and drops collections', async () => {
    const db = client().db(DB_NAME);
    await db.createCollection('listed');
    const err = await db.createCollection('listed').catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(48);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).toContain('listed');
    expect((await db.collection('listed').indexes()).map((i) => i.name)).toEqual(['_id_']);
    expect(await db.collection('listed').drop()).toBe(true);
    expect((await db.listCollections({ name: 'listed' }).toArray()).length).toBe(0);
  });

  it('handles upserts with $setOnInsert, findOneAndDelete and unacknowledged (w: 0) writes', async () => {
    const coll = client().db(DB_NAME).collection<{ key: string; hits: number; created?: boolean }>('upserts');
    for (let i = 0; i < 2; i++) {
      await coll.findOneAndUpdate(
        { key: 'k' },
        { $inc: { hits: 1 }, $setOnInsert: { created: true } },
        { upsert: true, returnDocument: 'after' },
      );
    }
    expect(await coll.findOne({ key: 'k' }, { projection: { _id: 0 } })).toEqual({ key: 'k', hits: 2, created: true });
    expect((await coll.findOneAndDelete({ key: 'k' }))?.hits).toBe(2);
    expect(await coll.countDocuments()).toBe(0);

    // w: 0 is sent with moreToCome and must get no reply; the write still lands.
    const res = await coll.insertOne({ key: 'fire-and-forget', hits: 0 }, { writeConcern: { w: 0 } });
    expect(res.acknowledged).toBe(false);
    const deadline = Date.now() + 2000;
    while ((await coll.countDocuments({ key: 'fire-and-forget' })) !== 1) {
      if (Date.now() > deadline) throw new Error('w: 0 insert never landed');
    }
  });

  it('answers an unknown command with CommandNotFound', async () => {
    const err = await client().db(DB_NAME).command({ noSuchCommandHere: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(59);
  });
});

describe('duplicate keys', () => {
  it('rejects a duplicate _id with E11000', async () => {
    const coll = client().db(DB_NAME).collection<{ _id: number; v?: number }>('dup_id');
    await coll.insertOne({ _id: 1 });
    const err = await coll.insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).message).toMatch(/E11000 duplicate key error/);

    // Unordered: every non-duplicate still lands.
    const bulk = await coll.insertMany([{ _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: false }).catch((e: unknown) => e);
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect((bulk as MongoBulkWriteError).code).toBe(11000);
    expect((bulk as MongoBulkWriteError).insertedCount).toBe(2);
    expect(await coll.countDocuments()).toBe(3);
  });

  it('enforces a unique index from createIndex on later writes and existing data', async () => {
    const coll = client().db(DB_NAME).collection<{ email: string; n?: number }>('dup_index');
    await coll.insertMany([{ email: 'a@x' }, { email: 'b@x' }]);
    expect(await coll.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    expect((await coll.indexes()).map((i) => i.name)).toEqual(['_id_', 'email_1']);

    const insert = await coll.insertOne({ email: 'a@x' }).catch((e: unknown) => e);
    expect((insert as MongoServerError).code).toBe(11000);
    const update = await coll.updateOne({ email: 'b@x' }, { $set: { email: 'a@x' } }).catch((e: unknown) => e);
    expect((update as MongoServerError).code).toBe(11000);
    expect(await coll.countDocuments({ email: 'a@x' })).toBe(1);

    await coll.insertMany([{ email: 'c@x', n: 1 }, { email: 'd@x', n: 1 }]);
    const build = await coll.createIndex({ n: 1 }, { unique: true }).catch((e: unknown) => e);
    expect((build as MongoServerError).code).toBe(11000);
  });
});

// A replica set would run the transaction; a standalone refuses it. The wire
// server is a standalone, so the real-mongod run is skipped (MONGODB_URI may
// name a replica set).
describe.skipIf(needsWireServer('standalone topology (transactions refused; MONGODB_URI may name a replica set)'))('transactions on a standalone', () => {
  it.each(drivers)('$label: withTransaction fails with 20 IllegalOperation and writes nothing', async ({ make, isServerError, major }) => {
    const c = make(target.uri);
    clients.push(c);
    const coll = c.db(DB_NAME).collection(`txn_${major[0]}`);
    await coll.insertOne({ before: true });
    const session = c.startSession();
    const err = await session
      .withTransaction(async () => {
        await coll.insertOne({ inTxn: 1 }, { session });
        await coll.insertOne({ inTxn: 2 }, { session });
      })
      .then(
        () => new Error('expected the transaction to fail'),
        (e: unknown) => e,
      )
      .finally(() => session.endSession());
    expect(isServerError(err), String(err)).toBe(true);
    // Driver 7 rewraps a write's code 20 in its "does not support retryable
    // writes" hint, as it does against mongod, keeping the server's error as originalError.
    const fromServer = ((err as { originalError?: MongoServerError }).originalError ?? err) as MongoServerError;
    expect([fromServer.code, fromServer.message]).toEqual([
      20,
      'Transaction numbers are only allowed on a replica set member or mongos',
    ]);
    expect(await coll.countDocuments({ inTxn: { $exists: true } })).toBe(0);
    // Sessions without a transaction still work.
    const plain = c.startSession();
    expect(await coll.countDocuments({}, { session: plain })).toBe(1);
    await plain.endSession();
    expect(local().commandsNotFound()).not.toContain('abortTransaction');
  });
});

// Everything below drives the local server's controls or reads its
// server-side connection table; a real mongod offers neither.
describe.skipIf(needsWireServer('connection table and fault controls (mongo-wire-server: connections and faults)'))('connections and faults (local wire server only)', () => {
  it('records handshake metadata and drops to zero connections after MongoClient.close()', async () => {
    const c = client({ appName: 'close-test' });
    await c.db(DB_NAME).command({ ping: 1 });
    const mine = () => local().connections().filter((i) => i.appName === 'close-test');
    expect(mine().length).toBeGreaterThanOrEqual(2);
    expect(mine()[0]?.driverName).toMatch(/^nodejs/);
    await c.close();
    await waitFor(() => local().connectionCount === 0);
    expect(local().connectionCount).toBe(0);
  });

  it.each(drivers)('$label opens exactly maxPoolSize pool connections plus one monitoring connection', async ({ make, major }) => {
    const srv = local();
    const c = make(target.uri, { appName: 'pool-test', maxPoolSize: 5 });
    clients.push(c);
    const coll = c.db(DB_NAME).collection(`pool_${major[0]}`);
    await coll.insertOne({ x: 1 });
    srv.setReplyDelay(50);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, srv.connectionCount)), 5);
    const results = await Promise.all(Array.from({ length: 50 }, () => coll.find({ x: 1 }).toArray()));
    clearInterval(sampler);
    srv.setReplyDelay(0);
    expect(results.every((r) => r.length === 1)).toBe(true);

    const mine = srv.connections().filter((i) => i.appName === 'pool-test');
    // Polling monitor (no topologyVersion, so no streaming and no RTT connection): hello only.
    expect(mine.filter((i) => i.operations === 0).length).toBe(1);
    expect(mine.filter((i) => i.operations > 0).length).toBe(5);
    expect(srv.connectionCount).toBe(6);
    expect(peak).toBe(6);

    await c.close();
    await waitFor(() => srv.connectionCount === 0);
  });

  it('recovers after killAllConnections()', async () => {
    const srv = local();
    const coll = client().db(DB_NAME).collection('kill');
    await coll.insertOne({ before: true });
    const acceptedBefore = srv.totalAccepted;
    expect(srv.killAllConnections()).toBeGreaterThanOrEqual(2);
    expect(srv.connectionCount).toBe(0);

    expect(await coll.findOne({ before: true })).toMatchObject({ before: true });
    await coll.insertOne({ after: true });
    expect(await coll.countDocuments()).toBe(2);
    expect(srv.totalAccepted).toBeGreaterThan(acceptedBefore);
    expect(srv.connectionCount).toBeGreaterThan(0);
  });

  it('recovers after a stop()/start() outage on the same port, keeping data', async () => {
    const srv = local();
    const { port, uri } = srv;
    const coll = client({ serverSelectionTimeoutMS: 2000 }).db(DB_NAME).collection('outage');
    await coll.insertOne({ kept: true });

    await srv.stop();
    expect(srv.connectionCount).toBe(0);
    // A command is not retried, so the outage shows up at once instead of after serverSelectionTimeoutMS.
    const during = await coll.db.command({ ping: 1 }, { timeoutMS: 300 }).catch((e: unknown) => e);
    expect(during instanceof MongoNetworkError || during instanceof MongoServerSelectionError, String(during)).toBe(true);

    expect(await srv.start()).toBe(uri);
    expect(srv.port).toBe(port);
    expect(await coll.findOne({ kept: true })).toMatchObject({ kept: true });
    await coll.insertOne({ kept: false });
    expect(await coll.countDocuments()).toBe(2);
  });

  it('failNextCommands() surfaces as MongoServerError with the given code', async () => {
    const srv = local();
    const coll = client().db(DB_NAME).collection('faults');
    await coll.insertOne({ a: 1 });

    srv.failNextCommands(1, { code: 8000, codeName: 'AtlasError', errmsg: 'injected by test' });
    const err = await coll.findOne({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(8000);
    expect((err as MongoServerError).message).toBe('injected by test');
    expect(await coll.findOne({})).toMatchObject({ a: 1 });

    // Scoped to insert: reads and ping pass untouched, the insert fails once.
    srv.failNextCommands(1, { code: 2, codeName: 'BadValue' }, { commands: ['insert'] });
    expect(await coll.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await coll.countDocuments()).toBe(1);
    const insertErr = await coll.insertOne({ a: 2 }).catch((e: unknown) => e);
    expect((insertErr as MongoServerError).code).toBe(2);
    await coll.insertOne({ a: 3 });
    expect(await coll.countDocuments()).toBe(2);
  });

  it('refuseConnections() makes server selection fail until switched off', async () => {
    const srv = local();
    srv.refuseConnections(true);
    const refusedBefore = srv.totalRefused;
    const c = client({ serverSelectionTimeoutMS: 300 });
    await expect(c.connect()).rejects.toBeInstanceOf(MongoServerSelectionError);
    expect(srv.totalRefused).toBeGreaterThan(refusedBefore);
    expect(srv.connectionCount).toBe(0);

    srv.refuseConnections(false);
    const again = client({ serverSelectionTimeoutMS: 1000 });
    expect(await again.db(DB_NAME).command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('setReplyDelay() slows every reply, and 0 turns it off', async () => {
    const srv = local();
    const db = client().db(DB_NAME);
    await db.command({ ping: 1 });
    const DELAY_MS = 600;
    srv.setReplyDelay(DELAY_MS);
    let start = performance.now();
    await db.command({ ping: 1 });
    expect(performance.now() - start).toBeGreaterThanOrEqual(DELAY_MS - 5); // a timer never fires early
    srv.setReplyDelay(0);
    start = performance.now();
    await db.command({ ping: 1 });
    // Without the delay: well under it, even on a loaded machine (was: under 100 ms, which a busy machine can miss).
    expect(performance.now() - start).toBeLessThan(DELAY_MS);
  });

  it("sleep, mongod's test command: answers after millis (or secs), admin only, while other connections are answered", async () => {
    const c = client({ maxPoolSize: 2 });
    const admin = c.db('admin');
    await admin.command({ ping: 1 });
    const start = performance.now();
    let pingedAt = 0;
    const [slept] = await Promise.all([
      admin.command({ sleep: 1, millis: 400, lock: 'none' }).then(() => performance.now() - start),
      // The other pool connection is answered while the sleep runs: it holds no lock.
      admin.command({ ping: 1 }).then(() => void (pingedAt = performance.now() - start)),
    ]);
    expect(slept).toBeGreaterThanOrEqual(395);
    expect(pingedAt).toBeLessThan(slept);
    expect(local().commandCount('sleep')).toBeGreaterThan(0);
    const notAdmin = (await c.db(DB_NAME).command({ sleep: 1, millis: 1 }).catch((e: unknown) => e)) as MongoServerError;
    expect([notAdmin.code, notAdmin.message]).toEqual([13, 'sleep may only be run against the admin database.']);
    const noTime = (await admin.command({ sleep: 1 }).catch((e: unknown) => e)) as MongoServerError;
    expect(noTime.code).toBe(2);
  });

  it('reset() drops all data', async () => {
    const srv = local();
    const db = client().db(DB_NAME);
    await db.collection('reset').insertOne({ a: 1 });
    srv.reset();
    expect(await db.collection('reset').countDocuments()).toBe(0);
    expect((await db.admin().listDatabases()).databases.map((d) => d.name)).not.toContain(DB_NAME);
  });
});

