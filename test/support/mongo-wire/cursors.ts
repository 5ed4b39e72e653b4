// Server-side cursors. Results are materialised when the cursor opens, so a
// getMore sees a snapshot; good enough for tests and avoids invalidation rules.
import { Long, type Document } from 'bson';
import { cursorNotFound } from './errors.js';

/** mongod's default first batch for find/aggregate when batchSize is not given. */
export const DEFAULT_FIRST_BATCH = 101;

interface OpenCursor {
  ns: string;
  remaining: Document[];
  connectionId: number;
}

export interface CursorReplyOptions {
  ns: string;
  batchSize?: number;
  singleBatch?: boolean;
  connectionId: number;
}

export class CursorStore {
  private readonly open = new Map<number, OpenCursor>();
  // Start well above small integers so a test that confuses counts with ids fails loudly.
  private nextId = 1_000_001;

  get size(): number {
    return this.open.size;
  }

  /** The reply for find/aggregate/listCollections/listIndexes: first batch plus an int64 id (0 = exhausted). */
  firstBatch(results: Document[], opts: CursorReplyOptions): Document {
    const size = opts.batchSize ?? DEFAULT_FIRST_BATCH;
    const batch = results.slice(0, size);
    const rest = results.slice(size);
    let id = 0;
    if (rest.length > 0 && !opts.singleBatch) {
      id = this.nextId++;
      this.open.set(id, { ns: opts.ns, remaining: rest, connectionId: opts.connectionId });
    }
    return { cursor: { firstBatch: batch, id: Long.fromNumber(id), ns: opts.ns }, ok: 1 };
  }

  getMore(id: number, ns: string, batchSize: number | undefined): Document {
    const cursor = this.open.get(id);
    if (!cursor || cursor.ns !== ns) throw cursorNotFound(id);
    const size = batchSize && batchSize > 0 ? batchSize : cursor.remaining.length;
    const batch = cursor.remaining.slice(0, size);
    cursor.remaining = cursor.remaining.slice(size);
    let replyId = id;
    if (cursor.remaining.length === 0) {
      this.open.delete(id);
      replyId = 0;
    }
    return { cursor: { nextBatch: batch, id: Long.fromNumber(replyId), ns }, ok: 1 };
  }

  kill(ids: number[]): Document {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) (this.open.delete(id) ? killed : notFound).push(Long.fromNumber(id));
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  clear(): void {
    this.open.clear();
  }
}
