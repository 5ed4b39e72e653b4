// Update and upsert semantics the wire server must share with mongod, each
// test named after the rule of the MongoDB manual it pins ("Update Operators",
// "upsert behavior", "findAndModify"). With MONGODB_URI set, the same tests
// run against a real mongod, which is how these rules were meant to be checked.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Document, MongoClient, MongoServerError } from 'mongodb';
import { dropDatabaseAndClose, mongoDrivers } from './support/mongo-drivers.js';
import { mongoTarget, type MongoTarget } from './support/mongodb-target.js';

const DB_NAME = 'ndc_mongo_wire_updates_test';
const IMMUTABLE_ID = "Performing an update on the path '_id' would modify the immutable field '_id'";

let target: MongoTarget;
const clients: MongoClient[] = [];
let collectionSeq = 0;

beforeAll(async () => {
  target = await mongoTarget();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(() => dropDatabaseAndClose(target, DB_NAME));

// Each driver major brings its own bson, so an instanceof check would tie the test to one of them.
const isObjectId = (v: unknown) => (v as { _bsontype?: string } | null)?._bsontype === 'ObjectId';

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
}

describe.each(mongoDrivers)('immutable _id with $label', (driver) => {
  function coll<T extends Document = Document>(name: string) {
    const c = driver.make(target.uri);
    clients.push(c);
    return c.db(DB_NAME).collection<T>(`${name}_${driver.major[0]}_${collectionSeq++}`);
  }

  it('$set naming _id at its current value is accepted: _id is unchanged, the other fields update', async () => {
    const c = coll<{ _id: string; v: number }>('set_same_id');
    await c.insertOne({ _id: 'a', v: 1 });

    const res = await c.updateOne({ _id: 'a' }, { $set: { _id: 'a', v: 2 } });
    expect([res.matchedCount, res.modifiedCount]).toEqual([1, 1]);
    expect(await c.find().toArray()).toEqual([{ _id: 'a', v: 2 }]);

    // Only _id, at the same value: matched, nothing to modify.
    const noop = await c.updateOne({ _id: 'a' }, { $set: { _id: 'a' } });
    expect([noop.matchedCount, noop.modifiedCount]).toEqual([1, 0]);
  });

  it("$set or $unset changing _id is rejected: 66 ImmutableField, 'would modify the immutable field'", async () => {
    const c = coll<{ _id: string; v: number }>('set_other_id');
    await c.insertOne({ _id: 'a', v: 1 });

    const set = await caught(c.updateOne({ _id: 'a' }, { $set: { _id: 'b', v: 2 } }));
    expect(driver.isServerError(set), String(set)).toBe(true);
    expect((set as MongoServerError).code).toBe(66);
    expect((set as MongoServerError).message).toBe(IMMUTABLE_ID);

    const unset = await caught(c.updateOne({ _id: 'a' }, { $unset: { _id: '' } }));
    expect((unset as MongoServerError).code).toBe(66);
    // The rejected updates changed nothing, v included.
    expect(await c.find().toArray()).toEqual([{ _id: 'a', v: 1 }]);
  });

  it('a replacement carrying the same _id is accepted; another _id is rejected with 66 and nothing changes', async () => {
    const c = coll<{ _id: string; v?: number; w?: number }>('replace_id');
    await c.insertOne({ _id: 'a', v: 1 });

    // The driver's types leave _id out of a replacement; the server accepts one, hence the casts.
    const same = await c.replaceOne({ _id: 'a' }, { _id: 'a', w: 2 } as never);
    expect([same.matchedCount, same.modifiedCount]).toEqual([1, 1]);
    expect(await c.find().toArray()).toEqual([{ _id: 'a', w: 2 }]);

    const other = await caught(c.replaceOne({ _id: 'a' }, { _id: 'z', w: 3 } as never));
    expect(driver.isServerError(other), String(other)).toBe(true);
    expect((other as MongoServerError).code).toBe(66);
    expect((other as MongoServerError).message).toBe(
      `After applying the update, the (immutable) field '_id' was found to have been altered to _id: "z"`,
    );
    expect(await c.find().toArray()).toEqual([{ _id: 'a', w: 2 }]);
  });
});

describe.each(mongoDrivers)('upserts with $label', (driver) => {
  function coll<T extends Document = Document>(name: string) {
    const c = driver.make(target.uri);
    clients.push(c);
    return c.db(DB_NAME).collection<T>(`${name}_${driver.major[0]}_${collectionSeq++}`);
  }

  it("an operator upsert takes _id from the query's equality and reports it as upsertedId (n: 1, nModified: 0)", async () => {
    const c = coll('upsert_query_id');
    const res = await c.updateOne({ _id: 'b' as never }, { $set: { x: 1 } }, { upsert: true });
    expect(res).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: 'b' });
    expect(await c.find().toArray()).toEqual([{ _id: 'b', x: 1 }]);

    // The failure this rule fixes: a second upsert used to collide on { _id: null }.
    const second = await c.updateOne({ name: 'c' }, { $set: { x: 2 } }, { upsert: true });
    expect(second.upsertedCount).toBe(1);
    expect(second.upsertedId).toSatisfy(isObjectId);
    expect(await c.findOne({ _id: second.upsertedId as never })).toMatchObject({ name: 'c', x: 2 });
    expect(await c.countDocuments()).toBe(2);
  });

  it('an operator upsert seeds every equality (plain, dotted path, $eq, inside $and, one-element $in) and no range, multi-element $in or regex', async () => {
    const c = coll('upsert_seed');
    const res = await c.updateOne(
      { a: 1, 'b.c': 2, d: { $eq: 3 }, $and: [{ e: 4 }], i: { $in: [9] }, f: { $gt: 5 }, g: { $in: [1, 2] }, h: /x/ },
      { $set: { z: 1 } },
      { upsert: true },
    );
    expect(res.upsertedCount).toBe(1);
    // No _id in the query or the update: the server generates an ObjectId.
    expect(res.upsertedId).toSatisfy(isObjectId);
    const stored = await c.findOne({});
    expect(stored?._id).toEqual(res.upsertedId);
    const { _id, ...fields } = stored!;
    expect(fields).toEqual({ a: 1, b: { c: 2 }, d: 3, e: 4, i: 9, z: 1 });
  });

  it('$setOnInsert applies only when the upsert inserts', async () => {
    const c = coll('set_on_insert');
    const update = (v: number) => c.updateOne({ k: 's' }, { $set: { v }, $setOnInsert: { created: v } }, { upsert: true });
    expect((await update(1)).upsertedCount).toBe(1);
    const again = await update(2);
    expect([again.upsertedCount, again.matchedCount, again.modifiedCount]).toEqual([0, 1, 1]);
    const { _id, ...fields } = (await c.findOne({ k: 's' }))!;
    expect(fields).toEqual({ k: 's', v: 2, created: 1 });
  });

  it('an _id set by the update becomes the inserted _id when the query has none', async () => {
    const c = coll('upsert_update_id');
    const res = await c.updateOne({ k: 'x' }, { $set: { _id: 'from-update' as never } }, { upsert: true });
    expect(res.upsertedId).toBe('from-update');
    expect(await c.find().toArray()).toEqual([{ _id: 'from-update', k: 'x' }]);
  });

  it("an upsert whose update changes the query's _id is rejected with 66 and inserts nothing", async () => {
    const c = coll('upsert_changed_id');
    const err = await caught(c.updateOne({ _id: 'q' as never }, { $set: { _id: 'other' as never } }, { upsert: true }));
    expect(driver.isServerError(err), String(err)).toBe(true);
    expect((err as MongoServerError).code).toBe(66);
    expect((err as MongoServerError).message).toBe(IMMUTABLE_ID);
    expect(await c.countDocuments()).toBe(0);
  });

  it("a replacement upsert takes only the query's _id (when the replacement has none); another _id is rejected with 66", async () => {
    const c = coll('upsert_replacement');
    const res = await c.replaceOne({ _id: 'r' as never, notCopied: 1 }, { v: 1 }, { upsert: true });
    expect(res.upsertedId).toBe('r');
    expect(await c.find().toArray()).toEqual([{ _id: 'r', v: 1 }]);

    // No _id anywhere: a generated ObjectId; the query's other fields are not copied.
    const gen = await c.replaceOne({ k: 'none' }, { v: 2 }, { upsert: true });
    expect(gen.upsertedId).toSatisfy(isObjectId);
    expect(await c.findOne({ _id: gen.upsertedId as never }, { projection: { _id: 0 } })).toEqual({ v: 2 });

    const err = await caught(c.replaceOne({ _id: 's' as never }, { _id: 't' as never, v: 3 }, { upsert: true }));
    expect((err as MongoServerError).code).toBe(66);
    expect(await c.countDocuments()).toBe(2);
  });

  it('two equalities on one path cannot seed an upsert: 54 NotSingleValueField', async () => {
    const c = coll('upsert_conflict');
    const err = await caught(c.updateOne({ a: 1, $and: [{ a: 2 }] }, { $set: { z: 1 } }, { upsert: true }));
    expect(driver.isServerError(err), String(err)).toBe(true);
    expect((err as MongoServerError).code).toBe(54);
    expect((err as MongoServerError).message).toBe("cannot infer query fields to set, path 'a' is matched twice");
    expect(await c.countDocuments()).toBe(0);
  });

  it('findAndModify with upsert and new: true returns the inserted document and lastErrorObject { updatedExisting: false, upserted, n: 1 }', async () => {
    const c = coll('fam_upsert');
    const res = await c.findOneAndUpdate(
      { _id: 'f' as never },
      { $set: { v: 1 }, $setOnInsert: { created: true } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    );
    expect(res.value).toEqual({ _id: 'f', v: 1, created: true });
    expect(res.lastErrorObject).toEqual({ n: 1, updatedExisting: false, upserted: 'f' });

    const again = await c.findOneAndUpdate({ _id: 'f' as never }, { $set: { v: 2 } }, { upsert: true, includeResultMetadata: true });
    // Matched this time: the document before the update, no `upserted`.
    expect(again.value).toEqual({ _id: 'f', v: 1, created: true });
    expect(again.lastErrorObject).toEqual({ n: 1, updatedExisting: true });
  });
});

describe('the positional $ operator', () => {
  it('updates the first array element the query matched (the update sees its query)', async () => {
    const c = mongoDrivers[0]!.make(target.uri);
    clients.push(c);
    const coll = c.db(DB_NAME).collection<{ _id: string; arr: number[] }>(`positional_${collectionSeq++}`);
    await coll.insertOne({ _id: 'p', arr: [1, 2, 3, 2] });
    const res = await coll.updateOne({ _id: 'p', arr: 2 }, { $set: { 'arr.$': 20 } });
    expect(res.modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 'p' })).toEqual({ _id: 'p', arr: [1, 20, 3, 2] });
  });
});

describe('the update command reply', () => {
  it('names each upsert in upserted: [{ index, _id }] and counts it in n, not nModified', async () => {
    const c = mongoDrivers[0]!.make(target.uri);
    clients.push(c);
    const db = c.db(DB_NAME);
    const name = `raw_update_${collectionSeq++}`;
    await db.collection(name).insertOne({ _id: 'exists' as never, v: 0 });
    const reply = await db.command({
      update: name,
      updates: [
        { q: { _id: 'exists' }, u: { $set: { v: 1 } }, upsert: true },
        { q: { _id: 'new' }, u: { $set: { v: 1 } }, upsert: true },
      ],
    });
    expect(reply).toMatchObject({ ok: 1, n: 2, nModified: 1, upserted: [{ index: 1, _id: 'new' }] });

    const fam = await db.command({ findAndModify: name, query: { _id: 'fam' }, update: { $set: { v: 2 } }, upsert: true, new: true });
    expect(fam).toMatchObject({ ok: 1, lastErrorObject: { n: 1, updatedExisting: false, upserted: 'fam' }, value: { _id: 'fam', v: 2 } });
  });
});
