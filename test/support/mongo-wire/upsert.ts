// The document an upsert inserts when its query matched nothing, built the way
// mongod documents it ("Upsert with Operator Expressions" / "with Replacement
// Document" in the update reference):
// - operator and pipeline updates start from the query's equality conditions
//   (`{a: 1}`, `{'b.c': 2}`, `{d: {$eq: 3}}`, inside `$and`), not from ranges or
//   multi-value `$in`, then apply the update ($setOnInsert included);
// - a replacement starts from the query's `_id` only;
// - either way `_id` is immutable once the query fixed it, and the server
//   generates an ObjectId when neither the query nor the update gave one.
import { BSONRegExp, type Document } from 'bson';
import { notSingleValueField } from './errors.js';
import type { Collection } from './storage.js';
import { applyUpdate, updateKind, type UpdateSpec } from './update.js';
import { isOperatorObject, setPath } from './values.js';

/** The stored document (with its _id) that the upsert inserted. */
export function upsertDocument(coll: Collection, query: Document | undefined, u: UpdateSpec, arrayFilters?: Document[]): Document {
  const seed = seedFromQuery(query ?? {});
  const base = updateKind(u) === 'replacement' ? (seed._id !== undefined ? { _id: seed._id } : {}) : seed;
  return coll.insert(applyUpdate(base, u, { arrayFilters, inserting: true }));
}

/** The equality conditions of a query as a document; mongod's error 54 when two of them name one path. */
export function seedFromQuery(query: Document): Document {
  const equalities: Array<[string, unknown]> = [];
  collectEqualities(query, equalities);
  const seen: string[] = [];
  const doc: Document = {};
  for (const [path, value] of equalities) {
    for (const other of seen) {
      if (other === path) throw notSingleValueField(`cannot infer query fields to set, path '${path}' is matched twice`);
      if (other.startsWith(`${path}.`) || path.startsWith(`${other}.`)) {
        throw notSingleValueField(`cannot infer query fields to set, both paths '${other}' and '${path}' are matched`);
      }
    }
    seen.push(path);
    setPath(doc, path, value);
  }
  return doc;
}

function collectEqualities(query: Document, out: Array<[string, unknown]>): void {
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value) collectEqualities(clause as Document, out);
    } else if (key === '$or' && Array.isArray(value) && value.length === 1) {
      // mongod's query optimiser turns a one-clause $or into the clause itself.
      collectEqualities(value[0] as Document, out);
    } else if (!key.startsWith('$')) {
      const implied = impliedEquality(value);
      if (implied) out.push([key, implied.value]);
    }
  }
}

/** The single value a condition pins its path to, if it pins one. */
function impliedEquality(condition: unknown): { value: unknown } | null {
  if (isRegex(condition)) return null; // a pattern match, not an equality
  if (!isOperatorObject(condition)) return { value: condition };
  const ops = condition as Document;
  if ('$eq' in ops && !isRegex(ops.$eq)) return { value: ops.$eq };
  // A one-element $in is an equality after mongod's optimiser; more elements are a choice.
  if (Array.isArray(ops.$in) && ops.$in.length === 1 && !isRegex(ops.$in[0])) return { value: ops.$in[0] };
  return null;
}

function isRegex(v: unknown): boolean {
  return v instanceof RegExp || v instanceof BSONRegExp;
}
