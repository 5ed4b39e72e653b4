// Wire-protocol framing: the 16-byte header, legacy OP_QUERY/OP_REPLY (only
// the handshake still uses them) and OP_MSG.
import { deserialize, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const HEADER_SIZE = 16;
// Matches the maxMessageSizeBytes we advertise; anything larger is a corrupt stream.
export const MAX_MESSAGE_SIZE = 48_000_000;

const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

// Keep int64 values that do not fit a double exact; small ones become numbers
// so mingo can do arithmetic on them.
const DESERIALIZE_OPTIONS = { promoteLongs: true, promoteValues: true } as const;

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface CommandRequest {
  header: MessageHeader;
  opCode: typeof OP_QUERY | typeof OP_MSG;
  /** Database the command runs against ($db for OP_MSG, the namespace prefix for OP_QUERY). */
  db: string;
  /** Command body with kind-1 document sequences folded in under their identifiers. */
  body: Document;
  /** OP_MSG moreToCome on a request: the client wants no reply (w:0 writes). */
  moreToCome: boolean;
}

export function readHeader(buf: Buffer): MessageHeader {
  return {
    messageLength: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

function readCString(buf: Buffer, offset: number): { value: string; next: number } {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new Error('unterminated cstring');
  return { value: buf.toString('utf8', offset, end), next: end + 1 };
}

function readDocument(buf: Buffer, offset: number): { doc: Document; next: number } {
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new Error('BSON document overruns message');
  return { doc: deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS), next: offset + size };
}

export function parseOpQuery(header: MessageHeader, buf: Buffer): CommandRequest {
  let pos = HEADER_SIZE + 4; // flags are irrelevant for a command query
  const ns = readCString(buf, pos);
  pos = ns.next + 8; // numberToSkip, numberToReturn
  let { doc } = readDocument(buf, pos);
  // Drivers wrap the command when they attach a read preference.
  if (doc.$query && typeof doc.$query === 'object') doc = doc.$query as Document;
  const db = ns.value.split('.')[0] ?? 'admin';
  return { header, opCode: OP_QUERY, db, body: doc, moreToCome: false };
}

export function parseOpMsg(header: MessageHeader, buf: Buffer): CommandRequest {
  const flags = buf.readUInt32LE(HEADER_SIZE);
  // The CRC covers the message but TCP already guarantees integrity; skip it.
  const end = flags & CHECKSUM_PRESENT ? buf.length - 4 : buf.length;
  let pos = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (pos < end) {
    const kind = buf.readUInt8(pos);
    pos += 1;
    if (kind === 0) {
      const r = readDocument(buf, pos);
      body = r.doc;
      pos = r.next;
    } else if (kind === 1) {
      const sectionEnd = pos + buf.readInt32LE(pos);
      const id = readCString(buf, pos + 4);
      const docs: Document[] = [];
      let p = id.next;
      while (p < sectionEnd) {
        const r = readDocument(buf, p);
        docs.push(r.doc);
        p = r.next;
      }
      sequences.push([id.value, docs]);
      pos = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a kind 0 section');
  for (const [id, docs] of sequences) body[id] = docs;
  const db = typeof body.$db === 'string' ? body.$db : 'admin';
  return { header, opCode: OP_MSG, db, body, moreToCome: (flags & MORE_TO_COME) !== 0 };
}

function writeHeader(buf: Buffer, requestId: number, responseTo: number, opCode: number): void {
  buf.writeInt32LE(buf.length, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
}

export function buildOpMsg(requestId: number, responseTo: number, doc: Document): Buffer {
  const bson = serialize(doc);
  const buf = Buffer.alloc(HEADER_SIZE + 4 + 1 + bson.length);
  writeHeader(buf, requestId, responseTo, OP_MSG);
  buf.writeUInt32LE(0, HEADER_SIZE);
  buf.writeUInt8(0, HEADER_SIZE + 4);
  buf.set(bson, HEADER_SIZE + 5);
  return buf;
}

export function buildOpReply(requestId: number, responseTo: number, doc: Document): Buffer {
  const bson = serialize(doc);
  // responseFlags(4) cursorID(8) startingFrom(4) numberReturned(4)
  const buf = Buffer.alloc(HEADER_SIZE + 20 + bson.length);
  writeHeader(buf, requestId, responseTo, OP_REPLY);
  buf.writeInt32LE(0, HEADER_SIZE);
  buf.writeBigInt64LE(0n, HEADER_SIZE + 4);
  buf.writeInt32LE(0, HEADER_SIZE + 12);
  buf.writeInt32LE(1, HEADER_SIZE + 16);
  buf.set(bson, HEADER_SIZE + 20);
  return buf;
}

/** Splits a TCP byte stream into whole messages. */
export class MessageSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32LE(0);
      if (size < HEADER_SIZE || size > MAX_MESSAGE_SIZE) throw new Error(`bad message length ${size}`);
      if (this.pending.length < size) break;
      out.push(this.pending.subarray(0, size));
      this.pending = this.pending.subarray(size);
    }
    return out;
  }
}
