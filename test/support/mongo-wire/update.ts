// Applies one update specification (operators, replacement or pipeline) to a
// document, with mongod's rule that _id is immutable: an update may name _id
// as long as the value stays the same.
import type { Document } from 'bson';
import { aggregate as runPipeline, update as applyOperators } from 'mingo';
import { badValue, conflictingUpdateOperators, formatValue, immutableField } from './errors.js';
import { cloneDocument, isOperatorObject, isPlainObject, sameValue, withIdFirst } from './values.js';

export type UpdateSpec = Document | Document[];

export interface ApplyOptions {
  arrayFilters?: Document[];
  /** The query that selected the document; mingo needs it for the positional `$` operator. */
  query?: Document;
  /** True when building an upsert's insert: $setOnInsert applies. */
  inserting: boolean;
}

// mingo refuses every update path under its idKey, even a $set of _id to its
// current value, which mongod accepts. Point mingo's idKey at a name no
// document uses and enforce mongod's rule here instead.
const NO_ID_KEY = { idKey: '\u0000mongo-wire: _id is checked by update.ts' };

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

export function updateKind(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (isOperatorObject(u)) return 'operators';
  if (isPlainObject(u)) {
    if (Object.keys(u).some((k) => k.startsWith('$'))) throw badValue('replacement document must not contain update operators');
    return 'replacement';
  }
  throw badValue("'u' must be a document or a pipeline");
}

/** The document `u` turns `doc` into; `doc` itself is left alone. */
export function applyUpdate(doc: Document, u: UpdateSpec, opts: ApplyOptions): Document {
  const kind = updateKind(u);
  let next: Document;
  if (kind === 'operators') {
    next = applyOperatorUpdate(doc, u as Document, opts);
  } else {
    next =
      kind === 'pipeline'
        ? ((runPipeline([cloneDocument(doc)], u as Document[]) as Document[])[0] ?? {})
        : cloneDocument(u as Document);
    assertIdNotAltered(doc, next);
    // mongod treats a pipeline's result as a replacement: one without _id keeps the document's.
    if (next._id === undefined && doc._id !== undefined) next._id = doc._id;
  }
  return withIdFirst(next);
}

function applyOperatorUpdate(doc: Document, u: Document, opts: ApplyOptions): Document {
  const { $setOnInsert, ...ops } = u;
  // mingo has no $setOnInsert: on insert it is one more $set, and mongod
  // rejects a path named by both.
  if (opts.inserting && isPlainObject($setOnInsert)) {
    const set = isPlainObject(ops.$set) ? ops.$set : {};
    const both = Object.keys($setOnInsert).find((k) => Object.hasOwn(set, k));
    if (both !== undefined) throw conflictingUpdateOperators(`Updating the path '${both}' would create a conflict at '${both}'`);
    ops.$set = { ...set, ...$setOnInsert };
  }
  const next = cloneDocument(doc);
  if (Object.keys(ops).length) {
    applyOperators(next, ops, opts.arrayFilters, opts.query, { queryOptions: NO_ID_KEY });
  }
  if (doc._id !== undefined && !sameValue(doc._id, next._id)) {
    const path = idPaths(ops)[0] ?? '_id';
    throw immutableField(`Performing an update on the path '${path}' would modify the immutable field '_id'`);
  }
  return next;
}

/** Paths of an operator update that touch _id ($rename counts both ends). */
function idPaths(ops: Document): string[] {
  const paths: string[] = [];
  for (const [op, fields] of Object.entries(ops)) {
    if (!isPlainObject(fields)) continue;
    for (const [path, target] of Object.entries(fields)) {
      paths.push(path);
      if (op === '$rename' && typeof target === 'string') paths.push(target);
    }
  }
  return paths.filter((p) => p === '_id' || p.startsWith('_id.')).sort();
}

/** Replacements and pipelines: mongod's post-update check on the whole _id. */
function assertIdNotAltered(before: Document, after: Document): void {
  if (before._id === undefined || after._id === undefined) return;
  if (!sameValue(before._id, after._id)) {
    throw immutableField(`After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(after._id)}`);
  }
}
