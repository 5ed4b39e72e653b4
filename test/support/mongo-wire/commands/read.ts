// find, getMore, killCursors, aggregate, count, distinct.
import type { Document } from 'bson';
import { aggregate as runPipeline, find as runFind } from 'mingo';
import { badValue } from '../errors.js';
import { canonicalKey, cloneDocument, getPath, toNumber } from '../values.js';
import { collectionName, optionalDocument, optionalNumber, type CommandContext, type CommandHandler } from './context.js';

function hasKeys(doc: Document | undefined): doc is Document {
  return doc !== undefined && Object.keys(doc).length > 0;
}

/** Documents matching filter, with mongod's order of operations: sort, skip, limit, then project. */
export function query(
  docs: Document[],
  opts: { filter?: Document; sort?: Document; skip?: number; limit?: number; projection?: Document },
): Document[] {
  let cursor = runFind(docs, opts.filter ?? {}, hasKeys(opts.projection) ? opts.projection : undefined);
  if (hasKeys(opts.sort)) cursor = cursor.sort(opts.sort);
  if (opts.skip) cursor = cursor.skip(opts.skip);
  if (opts.limit) cursor = cursor.limit(Math.abs(opts.limit));
  return cursor.all() as Document[];
}

function docsOf(ctx: CommandContext, name: string): Document[] {
  return ctx.storage.get(ctx.db, name)?.docs ?? [];
}

const find: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const { body } = ctx;
  const limit = optionalNumber(body, 'limit');
  const skip = optionalNumber(body, 'skip');
  if (skip !== undefined && skip < 0) throw badValue('skip value must be non-negative');
  const results = query(docsOf(ctx, name), {
    filter: optionalDocument(body, 'filter'),
    sort: optionalDocument(body, 'sort'),
    projection: optionalDocument(body, 'projection'),
    skip,
    limit,
  });
  return ctx.cursors.firstBatch(results, {
    ns: `${ctx.db}.${name}`,
    batchSize: optionalNumber(body, 'batchSize'),
    // A negative limit is the legacy spelling of "one batch, then close".
    singleBatch: body.singleBatch === true || (limit !== undefined && limit < 0),
    connectionId: ctx.connectionId,
  });
};

const getMore: CommandHandler = (ctx) => {
  const id = toNumber(ctx.body.getMore);
  const coll = ctx.body.collection;
  if (!Number.isFinite(id)) throw badValue('getMore id must be an int64');
  if (typeof coll !== 'string') throw badValue('getMore requires a collection');
  return ctx.cursors.getMore(id, `${ctx.db}.${coll}`, optionalNumber(ctx.body, 'batchSize'));
};

const killCursors: CommandHandler = (ctx) => {
  const ids = Array.isArray(ctx.body.cursors) ? (ctx.body.cursors as unknown[]).map(toNumber) : [];
  return ctx.cursors.kill(ids);
};

const aggregate: CommandHandler = (ctx) => {
  const name = ctx.body.aggregate;
  if (typeof name !== 'string') throw badValue('aggregate without a collection (e.g. $currentOp) is not supported');
  const pipeline = ctx.body.pipeline;
  if (!Array.isArray(pipeline)) throw badValue("'pipeline' must be an array");
  const cursorOpts = optionalDocument(ctx.body, 'cursor') ?? {};
  // Stages such as $set/$unset may write into their input; never hand mingo the stored documents.
  const input = docsOf(ctx, name).map(cloneDocument);
  const results = runPipeline(input, pipeline as Document[], {
    collectionResolver: (other: string) => docsOf(ctx, other).map(cloneDocument),
  }) as Document[];
  return ctx.cursors.firstBatch(results, {
    ns: `${ctx.db}.${name}`,
    batchSize: optionalNumber(cursorOpts, 'batchSize'),
    connectionId: ctx.connectionId,
  });
};

const count: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const results = query(docsOf(ctx, name), {
    filter: optionalDocument(ctx.body, 'query'),
    skip: optionalNumber(ctx.body, 'skip'),
    limit: optionalNumber(ctx.body, 'limit'),
  });
  return { n: results.length, ok: 1 };
};

const distinct: CommandHandler = (ctx) => {
  const name = collectionName(ctx);
  const key = ctx.body.key;
  if (typeof key !== 'string') throw badValue("'key' must be a string");
  const seen = new Set<string>();
  const values: unknown[] = [];
  for (const doc of query(docsOf(ctx, name), { filter: optionalDocument(ctx.body, 'query') })) {
    const v = getPath(doc, key);
    if (v === undefined) continue;
    // Arrays contribute their elements, as in mongod.
    for (const item of Array.isArray(v) ? v : [v]) {
      const k = canonicalKey([item]);
      if (!seen.has(k)) {
        seen.add(k);
        values.push(item);
      }
    }
  }
  return { values, ok: 1 };
};

export const readCommands: Record<string, CommandHandler> = { find, getMore, killCursors, aggregate, count, distinct };
