// connect-mongo's MongoStore (the express-session store an app failed with)
// against the wire server, once through each driver major: its set() is
// updateOne({_id: sid}, {$set: {_id: sid, ...}}, {upsert: true}), which the
// server used to reject (the $set names _id) or store without an _id (the
// upsert), so get() found nothing. With MONGODB_URI set, a real mongod.
import { promisify } from 'node:util';
import MongoStore from 'connect-mongo';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabaseAndClose, mongoDrivers } from './support/mongo-drivers.js';
import { mongoTarget, type MongoTarget } from './support/mongodb-target.js';

const DB_NAME = 'ndc_mongo_wire_connect_mongo_test';

let target: MongoTarget;
const clients: MongoClient[] = [];
const stores: MongoStore[] = [];

beforeAll(async () => {
  target = await mongoTarget();
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(() => dropDatabaseAndClose(target, DB_NAME));

const inAnHour = () => new Date(Date.now() + 3_600_000);

describe.each(mongoDrivers)('connect-mongo MongoStore with $label', (driver) => {
  const collectionName = `sessions_${driver.major[0]}`;

  function store() {
    const client = driver.make(target.uri);
    clients.push(client);
    // timestamps: true adds $setOnInsert and $currentDate to set(), the upsert's full shape.
    const s = MongoStore.create({ client, dbName: DB_NAME, collectionName, timestamps: true, autoRemove: 'native' });
    stores.push(s);
    const events: string[] = [];
    for (const e of ['create', 'update', 'touch', 'destroy']) s.on(e, (sid: string) => events.push(`${e}:${sid}`));
    return {
      s,
      client,
      events,
      set: promisify(s.set.bind(s)) as (sid: string, session: object) => Promise<void>,
      get: promisify(s.get.bind(s)) as (sid: string) => Promise<Record<string, unknown> | null>,
      touch: promisify(s.touch.bind(s)) as (sid: string, session: object) => Promise<void>,
      destroy: promisify(s.destroy.bind(s)) as (sid: string) => Promise<void>,
      length: promisify(s.length.bind(s)) as () => Promise<number>,
      all: promisify(s.all.bind(s)) as () => Promise<unknown[]>,
    };
  }

  it('creates the TTL index (expires, expireAfterSeconds: 0) when the store opens', async () => {
    const { client, length } = store();
    await length(); // waits for the store's collection, hence its createIndex
    const indexes = await client.db(DB_NAME).collection(collectionName).indexes();
    expect(indexes.find((i) => i.name === 'expires_1')).toMatchObject({ key: { expires: 1 }, expireAfterSeconds: 0 });
  });

  it('set() upserts a session under its sid, a second set() updates it, get/touch/length/all/destroy follow', async () => {
    const { client, events, set, get, touch, destroy, length, all } = store();
    const sid = `sid-${driver.major[0]}-${Date.now()}`;
    const session = { cookie: { originalMaxAge: 3_600_000, expires: inAnHour().toISOString() }, user: 'ada' };

    await set(sid, session);
    const raw = client.db(DB_NAME).collection<{ _id: string; createdAt?: Date; updatedAt?: Date; expires?: Date }>(collectionName);
    const created = await raw.findOne({ _id: sid });
    expect(created?._id).toBe(sid);
    expect(created?.createdAt).toBeInstanceOf(Date);
    expect(created?.updatedAt).toBeInstanceOf(Date);
    expect(await get(sid)).toMatchObject({ user: 'ada' });

    // The same sid again: $set carries _id at its current value; an update, not a second document.
    await set(sid, { ...session, user: 'grace' });
    expect(await get(sid)).toMatchObject({ user: 'grace' });
    expect(await raw.countDocuments({ _id: sid })).toBe(1);
    const updated = await raw.findOne({ _id: sid });
    expect(updated?.createdAt).toEqual(created?.createdAt); // $setOnInsert did not run again

    const later = new Date(Date.now() + 7_200_000);
    await touch(sid, { ...session, cookie: { ...session.cookie, expires: later.toISOString() } });
    expect((await raw.findOne({ _id: sid }))?.expires?.getTime()).toBe(later.getTime());

    // A second session; an expired one is stored but never returned.
    await set(`${sid}-2`, { ...session, user: 'linus' });
    await set(`${sid}-old`, { ...session, cookie: { ...session.cookie, expires: new Date(Date.now() - 1000).toISOString() }, user: 'old' });
    expect(await get(`${sid}-old`)).toBeNull();
    expect(await length()).toBe(3);
    expect((await all()).map((s) => (s as { user: string }).user).sort()).toEqual(['grace', 'linus']);

    await destroy(sid);
    expect(await get(sid)).toBeNull();
    expect(await length()).toBe(2);
    expect(events.filter((e) => e.endsWith(`:${sid}`))).toEqual([`create:${sid}`, `update:${sid}`, `touch:${sid}`, `destroy:${sid}`]);
  });
});
