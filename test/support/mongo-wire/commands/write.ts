// insert, update, delete, findAndModify. Per-statement failures become
// writeErrors (the batch reply stays ok: 1), which is how mongod reports them.
import type { Document } from 'bson';
import { aggregate as runPipeline, update as applyOperators } from 'mingo';
import { CommandError, DuplicateKeyError, badValue, immutableField, toErrorReply } from '../errors.js';
import type { Collection } from '../storage.js';
import { canonicalKey, cloneDocument, isOperatorObject, isPlainObject, sameDocument, setPath, withIdFirst } from '../values.js';
import { collectionName, optionalDocument, requiredArray, type CommandContext, type CommandHandler } from './context.js';
import { query } from './read.js';

function writeError(index: number, err: unknown): Document {
  const reply = toErrorReply(err);
  const out: Document = { index, code: reply.code, errmsg: reply.errmsg };
  if (err instanceof DuplicateKeyError) {
    out.keyPattern = err.keyPattern;
    out.keyValue = err.keyValue;
  }
  return out;
}

function withWriteErrors(reply: Document, writeErrors: Document[]): Document {
  return writeErrors.length ? { ...reply, writeErrors } : reply;
}

const insert: CommandHandler = (ctx) => {
  const docs = requiredArray(ctx.body, 'documents');
  const ordered = ctx.body.ordered !== false;
  const { coll } = ctx.storage.ensure(ctx.db, collectionName(ctx));
  let n = 0;
  const writeErrors: Document[] = [];
  for (const [i, doc] of docs.entries()) {
    try {
      coll.insert(doc);
      n++;
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return withWriteErrors({ n, ok: 1 }, writeErrors);
};

type UpdateSpec = Document | Document[];

function assertSameId(before: Document, after: Document): void {
  if (canonicalKey([before._id]) !== canonicalKey([after._id])) {
    throw immutableField("Performing an update on the path '_id' would modify the immutable field '_id'");
  }
}

/** The document `u` turns `doc` into; `doc` itself is left alone. */
function applyUpdate(doc: Document, u: UpdateSpec, arrayFilters: Document[] | undefined, inserting: boolean): Document {
  let next: Document;
  if (Array.isArray(u)) {
    next = (runPipeline([cloneDocument(doc)], u) as Document[])[0] ?? {};
  } else if (isOperatorObject(u)) {
    // mingo has no $setOnInsert; it is a $set that only applies when upserting.
    const { $setOnInsert, ...ops } = u;
    if (inserting && isPlainObject($setOnInsert)) ops.$set = { ...(isPlainObject(ops.$set) ? ops.$set : {}), ...$setOnInsert };
    next = cloneDocument(doc);
    if (Object.keys(ops).length) applyOperators(next, ops, arrayFilters);
  } else if (isPlainObject(u)) {
    if (Object.keys(u).some((k) => k.startsWith('$'))) throw badValue('replacement document must not contain update operators');
    next = { ...cloneDocument(u) };
    if (doc._id !== undefined) {
      if (u._id !== undefined) assertSameId(doc, u);
      next._id = doc._id;
    }
  } else {
    throw badValue("'u' must be a document or a pipeline");
  }
  if (doc._id !== undefined) assertSameId(doc, next);
  return withIdFirst(next);
}

/** Equality fields of the filter seed the upserted document, as in mongod. */
function seedFromFilter(filter: Document | undefined, into: Document = {}): Document {
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) seedFromFilter(part as Document, into);
    } else if (key.startsWith('$')) {
      continue;
    } else if (isOperatorObject(value)) {
      if ('$eq' in (value as Document)) setPath(into, key, (value as Document).$eq);
    } else {
      setPath(into, key, value);
    }
  }
  return into;
}

function upsert(coll: Collection, filter: Document | undefined, u: UpdateSpec, arrayFilters: Document[] | undefined): Document {
  const seed = seedFromFilter(filter);
  // A replacement keeps only the filter's _id; operator/pipeline updates build on every equality field.
  const base = !Array.isArray(u) && !isOperatorObject(u) ? (seed._id !== undefined ? { _id: seed._id } : {}) : seed;
  const doc = applyUpdate({}, u, arrayFilters, true);
  const merged = { ...base, ...doc };
  if (base._id !== undefined && doc._id !== undefined) assertSameId(base, doc);
  return coll.insert(merged);
}

/** Applies `u` to doc; returns the new document, or null when nothing changed. */
function updateOne(coll: Collection, doc: Document, u: UpdateSpec, arrayFilters: Document[] | undefined): Document | null {
  const next = applyUpdate(doc, u, arrayFilters, false);
  if (sameDocument(doc, next)) return null;
  coll.replace(doc, next);
  return next;
}

const update: CommandHandler = (ctx) => {
  const statements = requiredArray(ctx.body, 'updates');
  const ordered = ctx.body.ordered !== false;
  const { coll } = ctx.storage.ensure(ctx.db, collectionName(ctx));
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  for (const [i, st] of statements.entries()) {
    try {
      const u = st.u as UpdateSpec;
      const arrayFilters = Array.isArray(st.arrayFilters) ? (st.arrayFilters as Document[]) : undefined;
      const matches = query(coll.docs, { filter: st.q as Document, sort: st.sort as Document | undefined });
      const targets = st.multi === true ? matches : matches.slice(0, 1);
      if (st.multi === true && !Array.isArray(u) && !isOperatorObject(u)) throw badValue('multi update is not supported for replacement-style update');
      for (const doc of targets) {
        n++;
        if (updateOne(coll, doc, u, arrayFilters)) nModified++;
      }
      if (targets.length === 0 && st.upsert === true) {
        const doc = upsert(coll, st.q as Document, u, arrayFilters);
        n++;
        upserted.push({ index: i, _id: doc._id });
      }
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  const reply: Document = { n, nModified, ok: 1 };
  if (upserted.length) reply.upserted = upserted;
  return withWriteErrors(reply, writeErrors);
};

const del: CommandHandler = (ctx) => {
  const statements = requiredArray(ctx.body, 'deletes');
  const ordered = ctx.body.ordered !== false;
  const coll = ctx.storage.get(ctx.db, collectionName(ctx));
  let n = 0;
  const writeErrors: Document[] = [];
  for (const [i, st] of statements.entries()) {
    try {
      if (!coll) continue;
      const matches = query(coll.docs, { filter: st.q as Document, limit: st.limit === 1 ? 1 : undefined });
      for (const doc of matches) coll.remove(doc);
      n += matches.length;
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return withWriteErrors({ n, ok: 1 }, writeErrors);
};

const findAndModify: CommandHandler = (ctx) => {
  const { body } = ctx;
  const name = collectionName(ctx);
  const filter = optionalDocument(body, 'query');
  const fields = optionalDocument(body, 'fields');
  const remove = body.remove === true;
  const u = body.update as UpdateSpec | undefined;
  if (remove === (u !== undefined)) throw badValue('Either an update or remove=true must be specified');
  const arrayFilters = Array.isArray(body.arrayFilters) ? (body.arrayFilters as Document[]) : undefined;
  const project = (doc: Document | null) => (doc && fields ? (query([doc], { projection: fields })[0] ?? null) : doc);

  const coll = remove ? ctx.storage.get(ctx.db, name) : ctx.storage.ensure(ctx.db, name).coll;
  const match = coll ? query(coll.docs, { filter, sort: optionalDocument(body, 'sort'), limit: 1 })[0] : undefined;

  if (remove) {
    if (match && coll) coll.remove(match);
    return { lastErrorObject: { n: match ? 1 : 0 }, value: project(match ?? null), ok: 1 };
  }
  if (!coll || u === undefined) throw new CommandError(1, 'InternalError', 'unreachable');
  if (match) {
    const next = updateOne(coll, match, u, arrayFilters) ?? match;
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(body.new === true ? next : match), ok: 1 };
  }
  if (body.upsert === true) {
    const doc = upsert(coll, filter, u, arrayFilters);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: project(body.new === true ? doc : null),
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
};

export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: del, findAndModify, findandmodify: findAndModify };
