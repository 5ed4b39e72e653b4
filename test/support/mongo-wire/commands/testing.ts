// mongod's testing command `sleep` (available when mongod runs with
// enableTestCommands): the reply comes after the time asked for, which gives
// tests a server-side operation that really takes a while, as pg_sleep and
// SELECT SLEEP() do for the SQL servers. Like mongod it runs only against the
// admin database; here it never holds a lock, whatever `lock` says, so other
// connections are answered meanwhile (mongod's lock: 'none').
import { CommandError, badValue, typeMismatch } from '../errors.js';
import type { CommandHandler } from './context.js';

const MAX_SLEEP_MS = 60_000;

const sleep: CommandHandler = async (ctx) => {
  if (ctx.db !== 'admin') throw new CommandError(13, 'Unauthorized', 'sleep may only be run against the admin database.');
  const { millis, secs, lock } = ctx.body as { millis?: unknown; secs?: unknown; lock?: unknown };
  if (lock !== undefined && !['none', 'r', 'ir', 'w', 'iw'].includes(lock as string)) throw badValue("'lock' must be one of none, r, ir, w, iw");
  for (const [field, v] of [['millis', millis], ['secs', secs]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw typeMismatch(`'${field}' must be a non-negative number`);
  }
  if (millis === undefined && secs === undefined) throw badValue("sleep needs 'millis' or 'secs'");
  const ms = Math.min(MAX_SLEEP_MS, ((secs as number | undefined) ?? 0) * 1000 + ((millis as number | undefined) ?? 0));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { ok: 1 };
};

export const testingCommands: Record<string, CommandHandler> = { sleep };
