// Server errors travel as { ok: 0, errmsg, code, codeName }; the driver turns
// them into MongoServerError with the same code, which is what tests assert on.
import type { Document } from 'bson';

export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
  }
}

export const badValue = (msg: string) => new CommandError(2, 'BadValue', msg);
export const typeMismatch = (msg: string) => new CommandError(14, 'TypeMismatch', msg);
export const namespaceNotFound = (msg: string) => new CommandError(26, 'NamespaceNotFound', msg);
export const cursorNotFound = (id: number) =>
  new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
export const namespaceExists = (ns: string) =>
  new CommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
export const commandNotFound = (name: string) =>
  new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
export const immutableField = (msg: string) => new CommandError(66, 'ImmutableField', msg);
export const notSingleValueField = (msg: string) => new CommandError(54, 'NotSingleValueField', msg);
export const conflictingUpdateOperators = (msg: string) => new CommandError(40, 'ConflictingUpdateOperators', msg);
export const indexNotFound = (msg: string) => new CommandError(27, 'IndexNotFound', msg);

/** E11000: a write would give two documents the same key in a unique index. */
export class DuplicateKeyError extends CommandError {
  constructor(
    ns: string,
    indexName: string,
    readonly keyPattern: Document,
    readonly keyValue: Document,
  ) {
    super(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${formatKey(keyValue)}`);
  }
}

function formatKey(keyValue: Document): string {
  const parts = Object.entries(keyValue).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return `{ ${parts.join(', ')} }`;
}

/** A value the way mongod prints one in an error message: strings quoted, ObjectId('…'). */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && '_bsontype' in v && (v as { _bsontype: string })._bsontype === 'ObjectId') {
    return `ObjectId('${String(v)}')`;
  }
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v === null || v === undefined) return 'null';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Anything that is not a CommandError (mingo rejecting an operator, a bug) still has to become a reply. */
export function toErrorReply(err: unknown): Document {
  if (err instanceof CommandError) return err.toReply();
  const message = err instanceof Error ? err.message : String(err);
  const fromMingo = err instanceof Error && err.name === 'MingoError';
  return fromMingo ? badValue(message).toReply() : { ok: 0, errmsg: message, code: 1, codeName: 'InternalError' };
}
