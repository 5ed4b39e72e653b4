// Helpers over BSON values as the bson package deserialises them.
import { deserialize, serialize, type Document } from 'bson';

/** Deep copy that keeps BSON types (ObjectId, Date, Binary...), unlike structuredClone. */
export function cloneDocument<T extends Document>(doc: T): T {
  return deserialize(serialize(doc)) as T;
}

/**
 * A string that is equal for equal BSON values; used as the key of unique
 * index entries and for distinct. Missing values index as null, as in mongod.
 */
export function canonicalKey(values: unknown[]): string {
  return Buffer.from(serialize({ k: values.map((v) => (v === undefined ? null : v)) })).toString('base64');
}

export function sameDocument(a: Document, b: Document): boolean {
  return Buffer.from(serialize(a)).equals(Buffer.from(serialize(b)));
}

export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Document)[part];
  }
  return cur;
}

export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Document = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Document;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Plain object (not an array, Date or BSON value class). */
export function isPlainObject(v: unknown): v is Document {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isOperatorObject(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** Cursor ids arrive as a number (promoted) or a Long/bigint when huge. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number.NaN;
}

/** _id goes first, as mongod stores it. A document without one is left alone (no `_id: undefined` key). */
export function withIdFirst(doc: Document): Document {
  if (doc._id === undefined || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/** Equal as BSON values (what mongod compares when it checks that _id did not change). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalKey([a]) === canonicalKey([b]);
}
