// In-memory databases, collections and indexes. Documents are never mutated
// in place: updates build a new document and swap it in, so readers (open
// cursors, replies being serialised) never see half-applied writes.
import { ObjectId, type Document } from 'bson';
import { Query } from 'mingo';
import { DuplicateKeyError, badValue } from './errors.js';
import { canonicalKey, getPath, withIdFirst } from './values.js';

export interface IndexSpec {
  v: 2;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  [option: string]: unknown;
}

class Index {
  /** Only unique indexes keep entries; the rest are metadata for listIndexes. */
  readonly entries = new Map<string, Document>();
  private readonly fields: string[];
  private readonly partial: Query | null;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    this.partial = spec.partialFilterExpression ? new Query(spec.partialFilterExpression, {}) : null;
  }

  get unique(): boolean {
    return this.spec.name === '_id_' || this.spec.unique === true;
  }

  /** The entry key for doc, or null when the index does not cover it. */
  keyOf(doc: Document): string | null {
    const values = this.fields.map((f) => getPath(doc, f));
    if (this.spec.sparse && values.every((v) => v === undefined)) return null;
    if (this.partial && !this.partial.test(doc)) return null;
    return canonicalKey(values);
  }

  keyValue(doc: Document): Document {
    const out: Document = {};
    for (const f of this.fields) out[f] = getPath(doc, f) ?? null;
    return out;
  }
}

export class Collection {
  docs: Document[] = [];
  private indexes: Index[] = [new Index({ v: 2, key: { _id: 1 }, name: '_id_' })];

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  indexSpecs(): IndexSpec[] {
    return this.indexes.map((i) => i.spec);
  }

  /** Throws E11000 if doc would collide with a document other than `replacing`. */
  private checkUnique(doc: Document, replacing?: Document): void {
    for (const index of this.indexes) {
      if (!index.unique) continue;
      const key = index.keyOf(doc);
      if (key === null) continue;
      const holder = index.entries.get(key);
      if (holder && holder !== replacing) {
        throw new DuplicateKeyError(this.ns, index.spec.name, index.spec.key, index.keyValue(doc));
      }
    }
  }

  private addEntries(doc: Document): void {
    for (const index of this.indexes) {
      if (!index.unique) continue;
      const key = index.keyOf(doc);
      if (key !== null) index.entries.set(key, doc);
    }
  }

  private removeEntries(doc: Document): void {
    for (const index of this.indexes) {
      if (!index.unique) continue;
      const key = index.keyOf(doc);
      if (key !== null && index.entries.get(key) === doc) index.entries.delete(key);
    }
  }

  insert(input: Document): Document {
    // mongod generates the _id when the document has none, and stores it first.
    const doc = withIdFirst(input._id === undefined ? { ...input, _id: new ObjectId() } : input);
    if (Array.isArray(doc._id)) throw badValue('can\'t use an array for _id');
    this.checkUnique(doc);
    this.docs.push(doc);
    this.addEntries(doc);
    return doc;
  }

  replace(oldDoc: Document, newDoc: Document): void {
    const at = this.docs.indexOf(oldDoc);
    if (at < 0) throw new Error('replace: document is not in the collection');
    this.checkUnique(newDoc, oldDoc);
    this.removeEntries(oldDoc);
    this.docs[at] = newDoc;
    this.addEntries(newDoc);
  }

  remove(doc: Document): void {
    const at = this.docs.indexOf(doc);
    if (at < 0) return;
    this.docs.splice(at, 1);
    this.removeEntries(doc);
  }

  /** Returns false when an identical index already exists (createIndexes is idempotent). */
  createIndex(spec: IndexSpec): boolean {
    const sameName = this.indexes.find((i) => i.spec.name === spec.name);
    const sameKey = this.indexes.find((i) => JSON.stringify(i.spec.key) === JSON.stringify(spec.key));
    if (sameName || sameKey) {
      const existing = (sameName ?? sameKey)!;
      if (JSON.stringify(existing.spec.key) === JSON.stringify(spec.key) && Boolean(existing.unique) === Boolean(spec.unique || spec.name === '_id_')) {
        return false;
      }
      throw badValue(`An existing index has the same name or key as the requested index: ${spec.name}`);
    }
    const index = new Index(spec);
    if (index.unique) {
      // Build before publishing so a violation leaves the collection untouched.
      for (const doc of this.docs) {
        const key = index.keyOf(doc);
        if (key === null) continue;
        if (index.entries.has(key)) throw new DuplicateKeyError(this.ns, spec.name, spec.key, index.keyValue(doc));
        index.entries.set(key, doc);
      }
    }
    this.indexes.push(index);
    return true;
  }

  dropIndex(name: string): boolean {
    const at = this.indexes.findIndex((i) => i.spec.name === name);
    if (at < 0) return false;
    this.indexes.splice(at, 1);
    return true;
  }

  dropAllIndexes(): void {
    this.indexes = this.indexes.filter((i) => i.spec.name === '_id_');
  }
}

export class Storage {
  private readonly dbs = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Writes create their collection implicitly, as in mongod. */
  ensure(db: string, name: string): { coll: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { coll: existing, created: false };
    return { coll: this.create(db, name), created: true };
  }

  create(db: string, name: string, options: Document = {}): Collection {
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, (colls = new Map()));
    const coll = new Collection(db, name, options);
    colls.set(name, coll);
    return coll;
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  databases(): string[] {
    return [...this.dbs.keys()].filter((db) => (this.dbs.get(db)?.size ?? 0) > 0);
  }

  drop(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    const existed = colls?.delete(name) ?? false;
    if (colls && colls.size === 0) this.dbs.delete(db);
    return existed;
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  clear(): void {
    this.dbs.clear();
  }
}
