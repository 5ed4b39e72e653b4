// The wire server in a process of its own, for running the suite with
// MONGODB_URI pointing at "some other server" where no mongod can be installed:
//
//   npx tsx test/support/mongo-wire/serve.ts [--port 27017] [--user name:password]
//   MONGODB_URI=mongodb://127.0.0.1:27017 npx vitest run test/routers.test.ts
//
// The tests then treat it as they would a real mongod (they cannot reach its
// fault controls or its connection table), which checks the MONGODB_URI switch
// itself. Prints "LISTENING <uri>" once it accepts connections; Ctrl-C stops it.
import { parseArgs } from 'node:util';
import { MongoWireServer } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    user: { type: 'string', multiple: true, default: [] },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${values.port}`);
const users = values.user.map((spec) => {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error('--user must be name:password');
  return { user: spec.slice(0, colon), password: spec.slice(colon + 1) };
});

const server = new MongoWireServer({ port, users });
const uri = await server.start();
console.log(`LISTENING ${uri}${users.length ? ` (users: ${users.map((u) => u.user).join(', ')})` : ''}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.stop().then(() => process.exit(0)));
}
