// mongoose 8 (driver 6.x inside) and mongoose 9 (driver 7.x inside) against
// the wire server over TCP: what a next-db-connect/mongoose adapter built on
// createConnection() will rely on. The server is started with a user, so
// each mongoose's own driver copy also authenticates with SCRAM-SHA-256.
// With MONGODB_URI set, the same tests run against that mongod instead (its URI
// brings its own credentials), except the one that reads the connection table.
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mongoose9 from 'mongoose';
import { mongoTarget, mongoUrl, needsWireServer, withCredentials, type MongoTarget } from './support/mongodb-target.js';

const DB_NAME = 'ndc_mongo_wire_mongoose_test';
const USER = 'mongoose-app';
const PASSWORD = 'mongoose-test-password';

type Mongoose = typeof mongoose9;
type Connection = ReturnType<Mongoose['createConnection']>;

// mongoose 8's typings are an ambient `declare module 'mongoose'` that would
// clash with 9's; load 8 untyped and write the shared test body against 9's types.
const mongoose8 = createRequire(import.meta.url)('mongoose-v8') as Mongoose;

const majors: Array<{ label: string; mongoose: Mongoose; driverMajor: string; returnNew: Record<string, unknown> }> = [
  { label: 'mongoose 8', mongoose: mongoose8, driverMajor: '6.', returnNew: { new: true } },
  // 9.x deprecates `new: true` (it still works, with a warning) for returnDocument: 'after'.
  { label: 'mongoose 9', mongoose: mongoose9, driverMajor: '7.', returnNew: { returnDocument: 'after' } },
];

let target: MongoTarget;
const connections: Connection[] = [];

/** The wire server is started with USER; a real mongod's URI carries its own credentials, if any. */
function dbUri(): string {
  if (!target.server) return mongoUrl(target.uri, DB_NAME);
  return mongoUrl(withCredentials(target.uri, USER, PASSWORD), DB_NAME, { authSource: 'admin' });
}

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  target = await mongoTarget({ users: [{ user: USER, password: PASSWORD }] });
});

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  const conn = await mongoose9.createConnection(dbUri()).asPromise();
  await conn.dropDatabase();
  await conn.close();
  await target?.close();
});

describe.each(majors)('$label against the wire server', ({ label, mongoose, driverMajor, returnNew }) => {
  const suffix = label.replace(/\D/g, '');

  async function open(appName: string): Promise<Connection> {
    const conn = await mongoose.createConnection(dbUri(), { appName }).asPromise();
    connections.push(conn);
    return conn;
  }

  function models(conn: Connection) {
    const { Schema } = mongoose;
    // Default autoIndex and autoCreate: Model.init() creates the collection and the unique index itself.
    const Author = conn.model(
      'Author',
      new Schema({ name: { type: String, required: true, unique: true }, tags: [String] }, { timestamps: true }),
      `authors_${suffix}`,
    );
    const Book = conn.model(
      'Book',
      new Schema({ title: String, pages: Number, author: { type: Schema.Types.ObjectId, ref: 'Author' } }, { timestamps: true }),
      `books_${suffix}`,
    );
    return { Author, Book };
  }

  it('createConnection().asPromise() connects through its own bundled driver and authenticates', async () => {
    const conn = await open(`mongoose-${suffix}-connect`);
    expect(conn.readyState).toBe(1);
    expect(await conn.db!.command({ ping: 1 })).toMatchObject({ ok: 1 });
    const server = target.server;
    if (server) {
      const mine = server.connections().filter((c) => c.appName === `mongoose-${suffix}-connect`);
      // mongoose 8 ships driver 6.x, mongoose 9 driver 7.x: the handshake says which one talked.
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((c) => c.driverVersion?.startsWith(driverMajor))).toBe(true);
      expect(mine.filter((c) => c.operations > 0).every((c) => c.user?.user === USER)).toBe(true);
    }
  });

  it('creates the collection and the unique index by default, then runs create, find, lean, updates, counts, populate and deletes', async () => {
    const conn = await open(`mongoose-${suffix}-crud`);
    const { Author, Book } = models(conn);
    await Promise.all([Author.init(), Book.init()]);
    const collections = (await conn.listCollections()).map((c) => c.name);
    expect(collections).toEqual(expect.arrayContaining([`authors_${suffix}`, `books_${suffix}`]));
    const indexes = await Author.listIndexes();
    expect(indexes.find((i) => i.name === 'name_1')).toMatchObject({ key: { name: 1 }, unique: true });

    const ada = await Author.create({ name: 'Ada', tags: ['math'] });
    // mongoose gives every document an _id before saving, so its presence proves nothing: the server must have stored it.
    expect((await Author.findById(ada._id).lean())?.name).toBe('Ada');
    expect(ada.createdAt).toBeInstanceOf(Date);
    const [b1] = await Book.create([
      { title: 'Notes', pages: 10, author: ada._id },
      { title: 'Sketches', pages: 20, author: ada._id },
    ]);

    // find / findOne, hydrated and lean.
    const doc = await Book.findOne({ title: 'Notes' });
    expect(doc).toBeInstanceOf(Book);
    expect(doc!.pages).toBe(10);
    const lean = await Book.findOne({ title: 'Notes' }).lean();
    expect(lean).not.toBeInstanceOf(Book);
    expect(lean).toMatchObject({ title: 'Notes', pages: 10, __v: 0 });
    expect((await Book.find({ pages: { $gte: 10 } }).sort({ pages: -1 }).lean()).map((b) => b.title)).toEqual(['Sketches', 'Notes']);
    expect((await Book.find().sort({ pages: 1 })).map((b) => b.title)).toEqual(['Notes', 'Sketches']);

    // updateOne bumps updatedAt (timestamps) and leaves createdAt.
    const before = (await Book.findById(b1!._id).lean())!;
    await new Promise((r) => setTimeout(r, 5));
    const upd = await Book.updateOne({ _id: b1!._id }, { $inc: { pages: 5 } });
    expect([upd.matchedCount, upd.modifiedCount]).toEqual([1, 1]);
    const after = (await Book.findById(b1!._id).lean())!;
    expect(after.pages).toBe(15);
    expect(after.createdAt).toEqual(before.createdAt);
    expect(after.updatedAt!.getTime()).toBeGreaterThan(before.updatedAt!.getTime());

    // findOneAndUpdate returning the new document, and upserting one with an _id and both timestamps.
    const renamed = await Book.findOneAndUpdate({ title: 'Sketches' }, { $set: { pages: 21 } }, returnNew);
    expect(renamed?.pages).toBe(21);
    const upserted = await Book.findOneAndUpdate({ title: 'Drafts' }, { $set: { pages: 1 } }, { ...returnNew, upsert: true }).lean();
    expect(upserted).toMatchObject({ title: 'Drafts', pages: 1 });
    expect(upserted!._id).toBeInstanceOf(mongoose.Types.ObjectId);
    expect(upserted!.createdAt).toBeInstanceOf(Date);
    expect(await Book.findById(upserted!._id).lean()).toMatchObject({ title: 'Drafts' });

    expect(await Book.countDocuments()).toBe(3);
    expect(await Book.countDocuments({ pages: { $gt: 10 } })).toBe(2);
    expect(await Book.estimatedDocumentCount()).toBe(3);

    // populate across the two models, hydrated and lean.
    const populated = await Book.findOne({ title: 'Notes' }).populate<{ author: { name: string; tags: string[] } }>('author');
    expect(populated!.author.name).toBe('Ada');
    const populatedLean = await Book.find({ author: ada._id }).sort({ title: 1 }).populate('author', 'name').lean();
    expect(populatedLean.map((b) => [b.title, (b.author as unknown as { name: string }).name])).toEqual([
      ['Notes', 'Ada'],
      ['Sketches', 'Ada'],
    ]);

    const del = await Book.deleteOne({ title: 'Drafts' });
    expect(del.deletedCount).toBe(1);
    expect(await Book.countDocuments()).toBe(2);
    if (target.server) expect(target.server.commandsNotFound()).toEqual([]);
  });

  it('a unique-index violation surfaces as E11000, code 11000, with keyValue', async () => {
    const conn = await open(`mongoose-${suffix}-dup`);
    const { Author } = models(conn);
    await Author.init();
    await Author.create({ name: 'Grace' });
    const err = await Author.create({ name: 'Grace' }).then(
      (): { code?: number; message: string; keyValue?: unknown; name: string } => new Error('expected E11000'),
      (e: unknown) => e as { code?: number; message: string; keyValue?: unknown; name: string },
    );
    expect(err.name).toBe('MongoServerError');
    expect(err.code).toBe(11000);
    expect(err.message).toMatch(/^E11000 duplicate key error collection: .*authors_\d+ index: name_1 dup key/);
    expect(err.keyValue).toEqual({ name: 'Grace' });
    expect(await Author.countDocuments({ name: 'Grace' })).toBe(1);
  });

  it.skipIf(needsWireServer('connection table (mongoose: connection.close() closes every socket)'))('connection.close() closes every socket it opened on the server', async () => {
    const appName = `mongoose-${suffix}-close`;
    const conn = await mongoose.createConnection(dbUri(), { appName }).asPromise();
    await conn.db!.collection('probe').findOne({});
    const server = target.server!;
    expect(server.connections().filter((c) => c.appName === appName).length).toBeGreaterThan(0);
    await conn.close();
    expect(conn.readyState).toBe(0);
    await waitFor(() => server.connections().every((c) => c.appName !== appName));
  });

  // A real mongod fails a user it does not know exactly like a wrong password: this runs against both.
  it('a wrong password rejects asPromise() with code 18 from the server', async () => {
    const url = mongoUrl(withCredentials(target.uri, USER, 'wrong'), DB_NAME, { authSource: 'admin' });
    const conn = mongoose.createConnection(url, { serverSelectionTimeoutMS: 2000 });
    const err = await conn.asPromise().then(
      (): { code?: number; message: string } => new Error('expected a rejection'),
      (e: unknown) => e as { code?: number; message: string },
    );
    expect([err.code, err.message]).toEqual([18, 'Authentication failed.']);
    await conn.close();
  });
});
