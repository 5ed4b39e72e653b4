import type { Document } from 'bson';
import type { UserStore } from '../auth/credentials.js';
import type { AuthSession } from '../auth/session.js';
import type { CursorStore } from '../cursors.js';
import type { Storage } from '../storage.js';
import { badValue, typeMismatch } from '../errors.js';

export interface CommandContext {
  db: string;
  body: Document;
  storage: Storage;
  cursors: CursorStore;
  connectionId: number;
  stats: () => { current: number; totalCreated: number };
  auth: {
    /** True when the server has users: then commands need an authenticated connection. */
    required: boolean;
    users: UserStore | null;
    /** This connection's authentication state. */
    session: AuthSession;
    /** Whether hello answers speculativeAuthenticate (mongod 4.4+ does). */
    speculative: boolean;
  };
}

/** Most answer at once; `sleep` answers later. */
export type CommandHandler = (ctx: CommandContext) => Document | Promise<Document>;

/** The collection name is the value of the command's first field, e.g. { find: 'users' }. */
export function collectionName(ctx: CommandContext): string {
  const name = Object.values(ctx.body)[0];
  if (typeof name !== 'string' || name === '') throw badValue('collection name must be a non-empty string');
  return name;
}

export function optionalDocument(body: Document, field: string): Document | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw typeMismatch(`'${field}' must be a document`);
  return v as Document;
}

export function optionalNumber(body: Document, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw typeMismatch(`'${field}' must be a number`);
  return v;
}

export function requiredArray(body: Document, field: string): Document[] {
  const v = body[field];
  if (!Array.isArray(v)) throw typeMismatch(`'${field}' must be an array`);
  return v as Document[];
}
