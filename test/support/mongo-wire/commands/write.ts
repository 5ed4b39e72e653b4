// insert, update, delete, findAndModify. Per-statement failures become
// writeErrors (the batch reply stays ok: 1), which is how mongod reports them.
import type { Document } from 'bson';
import { CommandError, DuplicateKeyError, badValue, toErrorReply } from '../errors.js';
import type { Collection } from '../storage.js';
import { applyUpdate, updateKind, type UpdateSpec } from '../update.js';
import { upsertDocument } from '../upsert.js';
import { sameDocument } from '../values.js';
import { collectionName, optionalDocument, requiredArray, type CommandHandler } from './context.js';
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

/** Applies `u` to doc; returns the new document, or null when nothing changed. */
function updateOne(coll: Collection, doc: Document, u: UpdateSpec, arrayFilters: Document[] | undefined, query: Document | undefined): Document | null {
  const next = applyUpdate(doc, u, { arrayFilters, query, inserting: false });
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
      if (st.multi === true && updateKind(u) === 'replacement') throw badValue('multi update is not supported for replacement-style update');
      for (const doc of targets) {
        n++;
        if (updateOne(coll, doc, u, arrayFilters, st.q as Document | undefined)) nModified++;
      }
      if (targets.length === 0 && st.upsert === true) {
        const doc = upsertDocument(coll, st.q as Document | undefined, u, arrayFilters);
        // mongod counts an upsert in n but not in nModified, and names its _id in `upserted`.
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
    const next = updateOne(coll, match, u, arrayFilters, filter) ?? match;
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(body.new === true ? next : match), ok: 1 };
  }
  if (body.upsert === true) {
    const doc = upsertDocument(coll, filter, u, arrayFilters);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: project(body.new === true ? doc : null),
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
};

export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: del, findAndModify, findandmodify: findAndModify };
