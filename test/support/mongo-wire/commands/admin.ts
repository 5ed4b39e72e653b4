// Server-level commands: handshake, liveness, sessions, databases.
import type { Document } from 'bson';
import { find as runFind } from 'mingo';
import { MAX_BSON_OBJECT_SIZE, SERVER_VERSION, helloReply } from '../handshake.js';
import { handshakeAuthFields } from './auth.js';
import type { CommandHandler } from './context.js';
import { optionalDocument } from './context.js';

const ok: CommandHandler = () => ({ ok: 1 });

const hello: CommandHandler = (ctx) => ({ ...helloReply(ctx.connectionId), ...handshakeAuthFields(ctx) });

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  versionArray: SERVER_VERSION.split('.').map(Number).concat([0]).slice(0, 4),
  gitVersion: 'next-db-connect-mongo-wire',
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  ok: 1,
});

const serverStatus: CommandHandler = (ctx) => {
  const { current, totalCreated } = ctx.stats();
  return {
    host: 'mongo-wire',
    version: SERVER_VERSION,
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor(process.uptime()),
    localTime: new Date(),
    connections: { current, available: 1_000_000 - current, totalCreated },
    ok: 1,
  };
};

const listDatabases: CommandHandler = (ctx) => {
  let databases: Document[] = ctx.storage.databases().map((name) => ({ name, sizeOnDisk: 0, empty: false }));
  const filter = optionalDocument(ctx.body, 'filter');
  if (filter) databases = runFind(databases, filter).all() as Document[];
  if (ctx.body.nameOnly === true) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  return { databases, totalSize: 0, totalSizeMb: 0, ok: 1 };
};

const dropDatabase: CommandHandler = (ctx) => {
  ctx.storage.dropDatabase(ctx.db);
  return { ok: 1 };
};

export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  // The wait itself happens in the server, which can await; see MongoWireServer.handle.
  endSessions: ok,
  refreshSessions: ok,
  killAllSessions: ok,
  buildInfo,
  buildinfo: buildInfo,
  serverStatus,
  listDatabases,
  dropDatabase,
};
