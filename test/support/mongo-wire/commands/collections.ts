// Collection and index management.
import type { Document } from 'bson';
import { find as runFind } from 'mingo';
import { CommandError, badValue, indexNotFound, namespaceExists, namespaceNotFound } from '../errors.js';
import type { IndexSpec } from '../storage.js';
import { collectionName, optionalDocument, optionalNumber, requiredArray, type CommandHandler } from './context.js';

// Driver-added fields that are not collection options.
const ENVELOPE_FIELDS = new Set(['$db', 'lsid', '$clusterTime', '$readPreference', 'writeConcern', 'txnNumber', 'comment']);

const ID_INDEX = { v: 2, key: { _id: 1 }, name: '_id_' };

const create: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  if (ctx.storage.get(ctx.db, name)) throw namespaceExists(`${ctx.db}.${name}`);
  const options = Object.fromEntries(Object.entries(ctx.body).filter(([k]) => k !== 'create' && !ENVELOPE_FIELDS.has(k)));
  ctx.storage.create(ctx.db, name, options);
  return { ok: 1 };
};

const drop: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.storage.get(ctx.db, name);
  ctx.storage.drop(ctx.db, name);
  // Since 7.0 mongod answers ok: 1 for a missing collection too.
  return coll ? { ns: coll.ns, nIndexesWas: coll.indexSpecs().length, ok: 1 } : { ok: 1 };
};

const listCollections: CommandHandler = (ctx) => {
  const nameOnly = ctx.body.nameOnly === true;
  let entries: Document[] = ctx.storage.collections(ctx.db).map((c) =>
    nameOnly
      ? { name: c.name, type: 'collection' }
      : { name: c.name, type: 'collection', options: c.options, info: { readOnly: false }, idIndex: ID_INDEX },
  );
  const filter = optionalDocument(ctx.body, 'filter');
  if (filter) entries = runFind(entries, filter).all() as Document[];
  const cursorOpts = optionalDocument(ctx.body, 'cursor') ?? {};
  return ctx.cursors.firstBatch(entries, {
    ns: `${ctx.db}.$cmd.listCollections`,
    batchSize: optionalNumber(cursorOpts, 'batchSize'),
    connectionId: ctx.connectionId,
  });
};

const createIndexes: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const specs = requiredArray(ctx.body, 'indexes');
  const { coll, created } = ctx.storage.ensure(ctx.db, name);
  const before = coll.indexSpecs().length;
  for (const spec of specs) {
    if (!spec || typeof spec.key !== 'object' || typeof spec.name !== 'string') {
      throw badValue('each index needs a key document and a name');
    }
    coll.createIndex({ ...spec, v: 2 } as IndexSpec);
  }
  const after = coll.indexSpecs().length;
  const reply: Document = { createdCollectionAutomatically: created, numIndexesBefore: before, numIndexesAfter: after, ok: 1 };
  if (after === before) reply.note = 'all indexes already exist';
  return reply;
};

const listIndexes: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.storage.get(ctx.db, name);
  if (!coll) throw namespaceNotFound(`ns does not exist: ${ctx.db}.${name}`);
  const cursorOpts = optionalDocument(ctx.body, 'cursor') ?? {};
  return ctx.cursors.firstBatch(coll.indexSpecs() as Document[], {
    ns: coll.ns,
    batchSize: optionalNumber(cursorOpts, 'batchSize'),
    connectionId: ctx.connectionId,
  });
};

const dropIndexes: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.storage.get(ctx.db, name);
  if (!coll) throw namespaceNotFound(`ns not found ${ctx.db}.${name}`);
  const nIndexesWas = coll.indexSpecs().length;
  const target = ctx.body.index;
  if (target === '*') {
    coll.dropAllIndexes();
  } else {
    const names = Array.isArray(target)
      ? (target as string[])
      : typeof target === 'string'
        ? [target]
        : coll.indexSpecs().filter((s) => JSON.stringify(s.key) === JSON.stringify(target)).map((s) => s.name);
    if (names.length === 0) throw indexNotFound(`can't find index with key: ${JSON.stringify(target)}`);
    for (const n of names) {
      if (n === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
      if (!coll.dropIndex(n)) throw indexNotFound(`index not found with name [${n}]`);
    }
  }
  return { nIndexesWas, ok: 1 };
};

export const collectionCommands: Record<string, CommandHandler> = {
  create,
  drop,
  listCollections,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
