// SCRAM-SHA-256 authentication on the wire server, checked against the
// official drivers (6.x and 7.x) over TCP and against RFC 7677's example
// conversation. The server is started with users here, so these tests need
// the local wire server and skip against a real mongod (MONGODB_URI).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { saslprep } from '@mongodb-js/saslprep';
import { Binary, type Document, type MongoClient, type MongoServerError } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scramSha256Credentials } from './support/mongo-wire/auth/credentials.js';
import { ScramConversation, ScramFailure } from './support/mongo-wire/auth/scram.js';
import { MongoWireServer } from './support/mongo-wire/index.js';
import { mongoDrivers, type MongoDriver } from './support/mongo-drivers.js';
import { needsWireServer } from './support/mongodb-target.js';
import { captureConsole, errorTexts } from './support/secret-exposure.js';

const DB_NAME = 'ndc_mongo_wire_auth_test';
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const SHOP_PASSWORD = `shop-${randomBytes(9).toString('base64url')}`;
// U+2168 ROMAN NUMERAL NINE: SASLprep (NFKC) turns it into "IX" on both sides.
const ROMAN_NINE = '\u2168';

let server: MongoWireServer; // users, speculative authentication (mongod 4.4+)
let noSpeculative: MongoWireServer; // users, hello ignores speculativeAuthenticate
let open: MongoWireServer; // no users: the control for "requires authentication"
const clients: MongoClient[] = [];

function uri(srv: MongoWireServer, user?: string, password?: string, query = ''): string {
  const auth = user === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@`;
  return `mongodb://${auth}${srv.host}:${srv.port}/${query}`;
}

function connect(driver: MongoDriver, url: string, options: Parameters<MongoDriver['make']>[1] = {}): MongoClient {
  const c = driver.make(url, { serverSelectionTimeoutMS: 2000, ...options });
  clients.push(c);
  return c;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  const users = [
    { user: 'app', password: PASSWORD, db: 'admin' },
    { user: 'shopper', password: SHOP_PASSWORD, db: 'shop' },
    { user: 'roman', password: ROMAN_NINE },
  ];
  server = new MongoWireServer({ users });
  noSpeculative = new MongoWireServer({ users, speculativeAuthentication: false });
  open = new MongoWireServer();
  await Promise.all([server.start(), noSpeculative.start(), open.start()]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all([server?.stop(), noSpeculative?.stop(), open?.stop()]);
});

describe.skipIf(needsWireServer('users and SCRAM-SHA-256 (a real mongod has its own users)'))('SCRAM-SHA-256 (local wire server)', () => {
  describe.each(mongoDrivers)('with $label', (driver) => {
    it('the right password connects and runs CRUD; pool connections carry the user, the monitor none', async () => {
      const c = connect(driver, uri(server, 'app', PASSWORD), { appName: `auth-ok-${driver.major}` });
      const coll = c.db(DB_NAME).collection<{ n: number }>(`crud_${driver.major[0]}`);
      await coll.insertMany([{ n: 1 }, { n: 2 }]);
      await coll.updateOne({ n: 1 }, { $set: { n: 10 } });
      expect((await coll.find({}, { projection: { _id: 0 } }).sort({ n: 1 }).toArray()).map((d) => d.n)).toEqual([2, 10]);
      expect((await coll.deleteOne({ n: 2 })).deletedCount).toBe(1);
      expect(await coll.countDocuments()).toBe(1);

      const mine = server.connections().filter((i) => i.appName === `auth-ok-${driver.major}`);
      const pool = mine.filter((i) => i.operations > 0);
      expect(pool.length).toBeGreaterThan(0);
      expect(pool.every((i) => i.user?.user === 'app' && i.user.db === 'admin')).toBe(true);
      // The authentication spec forbids authenticating monitoring sockets.
      expect(mine.filter((i) => i.operations === 0).map((i) => i.user)).toEqual([undefined]);
      expect(await c.db('admin').command({ connectionStatus: 1 })).toMatchObject({
        authInfo: { authenticatedUsers: [{ user: 'app', db: 'admin' }] },
      });
    });

    it("a wrong password is rejected with the driver's MongoServerError, code 18 and 'Authentication failed.'", async () => {
      const err = await caught(connect(driver, uri(server, 'app', `${PASSWORD}x`)).connect());
      expect(driver.isServerError(err), String(err)).toBe(true);
      const e = err as MongoServerError;
      expect([e.code, e.codeName, e.message]).toEqual([18, 'AuthenticationFailed', 'Authentication failed.']);

      // An operation on a fresh client fails the same way (it connects first).
      const op = await caught(connect(driver, uri(server, 'app', 'nope')).db(DB_NAME).collection('x').findOne({}));
      expect((op as MongoServerError).code).toBe(18);
    });

    it('a user the server does not know fails exactly like a wrong password (mongod does not say which)', async () => {
      const unknown = (await caught(connect(driver, uri(server, 'nobody', PASSWORD)).connect())) as MongoServerError;
      const wrong = (await caught(connect(driver, uri(server, 'app', 'wrong')).connect())) as MongoServerError;
      expect(driver.isServerError(unknown), String(unknown)).toBe(true);
      expect([unknown.constructor, unknown.code, unknown.codeName, unknown.message]).toEqual([
        wrong.constructor,
        wrong.code,
        wrong.codeName,
        wrong.message,
      ]);
      expect(unknown.code).toBe(18);
    });

    it("a user is found only in its own database: authSource=shop works, the default 'admin' does not", async () => {
      const ok = connect(driver, uri(server, 'shopper', SHOP_PASSWORD, '?authSource=shop'));
      expect(await ok.db('shop').command({ ping: 1 })).toMatchObject({ ok: 1 });
      await ok.db('shop').collection('orders').insertOne({ a: 1 });
      const err = await caught(connect(driver, uri(server, 'shopper', SHOP_PASSWORD)).connect());
      expect((err as MongoServerError).code).toBe(18);
    });

    it('without credentials, find gets 13 Unauthorized; the same find on a server without users succeeds (control)', async () => {
      const err = await caught(connect(driver, uri(server)).db(DB_NAME).collection('x').find({}).toArray());
      expect(driver.isServerError(err), String(err)).toBe(true);
      const e = err as MongoServerError;
      expect([e.code, e.codeName, e.message]).toEqual([13, 'Unauthorized', 'Command find requires authentication']);

      expect(await connect(driver, uri(open)).db(DB_NAME).collection('x').find({}).toArray()).toEqual([]);
    });

    it('speculative authentication in hello needs no saslStart; a server without it makes the driver fall back to saslStart', async () => {
      const before = server.commandCount('saslStart');
      const continuesBefore = server.commandCount('saslContinue');
      await connect(driver, uri(server, 'app', PASSWORD)).db(DB_NAME).command({ ping: 1 });
      expect(server.commandCount('saslStart') - before).toBe(0);
      expect(server.commandCount('saslContinue') - continuesBefore).toBeGreaterThan(0);

      const fallbackBefore = noSpeculative.commandCount('saslStart');
      const c = connect(driver, uri(noSpeculative, 'app', PASSWORD));
      await c.db(DB_NAME).collection('fallback').insertOne({ ok: true });
      expect(noSpeculative.commandCount('saslStart') - fallbackBefore).toBeGreaterThan(0);
      expect(await c.db(DB_NAME).collection('fallback').countDocuments()).toBeGreaterThan(0);

      const wrong = await caught(connect(driver, uri(noSpeculative, 'app', 'wrong')).connect());
      expect((wrong as MongoServerError).code).toBe(18);
    });

    it('passwords go through SASLprep on both sides: a user created with U+2168 logs in as "IX", not as "IY"', async () => {
      expect(await connect(driver, uri(server, 'roman', 'IX')).db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      expect(await connect(driver, uri(server, 'roman', ROMAN_NINE)).db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      const err = await caught(connect(driver, uri(server, 'roman', 'IY')).connect());
      expect((err as MongoServerError).code).toBe(18);
    });
  });

  describe('before authentication', () => {
    it("allows only mongod's pre-auth commands (hello, ping, buildInfo, connectionStatus, sasl*); everything else is 13", async () => {
      const db = connect(mongoDrivers[0]!, uri(server)).db('admin');
      expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
      expect(await db.command({ buildInfo: 1 })).toMatchObject({ ok: 1 });
      expect(await db.command({ hello: 1 })).toMatchObject({ ok: 1, isWritablePrimary: true });
      expect(await db.command({ connectionStatus: 1 })).toMatchObject({ authInfo: { authenticatedUsers: [] } });
      for (const cmd of [{ listDatabases: 1 }, { insert: 'x', documents: [{}] }, { serverStatus: 1 }, { endSessions: [] }]) {
        const err = (await caught(db.command(cmd))) as MongoServerError;
        expect([err.code, err.message], JSON.stringify(cmd)).toEqual([13, `Command ${Object.keys(cmd)[0]} requires authentication`]);
      }
      // Unknown commands are looked up first, as in mongod: 59, not 13.
      expect(((await caught(db.command({ noSuchCommand: 1 }))) as MongoServerError).code).toBe(59);
    });

    it('hello lists saslSupportedMechs for a known user and leaves the field out for an unknown one', async () => {
      const db = connect(mongoDrivers[0]!, uri(server)).db('admin');
      expect((await db.command({ hello: 1, saslSupportedMechs: 'admin.app' })).saslSupportedMechs).toEqual(['SCRAM-SHA-256']);
      expect(await db.command({ hello: 1, saslSupportedMechs: 'admin.nobody' })).not.toHaveProperty('saslSupportedMechs');
      expect(await db.command({ hello: 1, saslSupportedMechs: 'shop.app' })).not.toHaveProperty('saslSupportedMechs');
    });
  });

  // A SCRAM client written from RFC 5802 in the test, driving saslStart and
  // saslContinue by hand on a client without credentials (one pool connection,
  // so the conversation stays on one socket) and altering chosen messages.
  describe('a hand-driven SCRAM conversation', () => {
    async function converse(
      db: ReturnType<MongoClient['db']>,
      opts: { user?: string; password?: string; alter?: (clientFinal: { cbind: string; nonce: string; proof: Buffer }) => void } = {},
    ): Promise<{ reply: Document; expectedSignature: string }> {
      const user = opts.user ?? 'app';
      const clientNonce = randomBytes(18).toString('base64');
      const bare = `n=${user},r=${clientNonce}`;
      const start = await db.command({
        saslStart: 1,
        mechanism: 'SCRAM-SHA-256',
        payload: new Binary(Buffer.from(`n,,${bare}`)),
        options: { skipEmptyExchange: true },
      });
      expect(start).toMatchObject({ conversationId: 1, done: false });
      const serverFirst = Buffer.from((start.payload as Binary).value()).toString();
      const fields = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
      expect(fields.r!.startsWith(clientNonce)).toBe(true);

      const salted = pbkdf2Sync(saslprep(opts.password ?? PASSWORD), Buffer.from(fields.s!, 'base64'), Number(fields.i), 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      const final = { cbind: 'biws', nonce: fields.r!, proof: Buffer.alloc(0) };
      const authMessage = `${bare},${serverFirst},c=${final.cbind},r=${final.nonce}`;
      const signature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
      final.proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
      if (opts.alter) {
        const untampered = `${final.cbind},${final.nonce},${final.proof.toString('base64')}`;
        opts.alter(final);
        // A tampering that changes nothing would turn a rejection test into a login.
        expect(`${final.cbind},${final.nonce},${final.proof.toString('base64')}`, 'the alteration changed the message').not.toBe(untampered);
      }
      const reply = await db.command({
        saslContinue: 1,
        conversationId: start.conversationId,
        payload: new Binary(Buffer.from(`c=${final.cbind},r=${final.nonce},p=${final.proof.toString('base64')}`)),
      });
      return { reply, expectedSignature: `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}` };
    }

    function oneConnection() {
      return connect(mongoDrivers[0]!, uri(server), { maxPoolSize: 1 }).db('admin');
    }

    it('untampered (control): done with the ServerSignature the client expects, and this connection may now run find', async () => {
      const db = oneConnection();
      expect(((await caught(db.collection('x').findOne({}))) as MongoServerError).code).toBe(13);
      const { reply, expectedSignature } = await converse(db);
      expect(reply).toMatchObject({ ok: 1, conversationId: 1, done: true });
      expect(Buffer.from((reply.payload as Binary).value()).toString()).toBe(expectedSignature);
      expect(await db.collection('x').findOne({})).toBeNull();
      expect(await db.command({ connectionStatus: 1 })).toMatchObject({ authInfo: { authenticatedUsers: [{ user: 'app', db: 'admin' }] } });
    });

    it.each([
      ['a flipped bit in the ClientProof', (f: { proof: Buffer }) => void (f.proof[0]! ^= 1)],
      // Its last character replaced by another: always a different nonce (replacing it by a fixed
      // 'A' left it unchanged whenever the random nonce already ended in 'A', 1 run in 64).
      ['another nonce than the server sent', (f: { nonce: string }) => void (f.nonce = `${f.nonce.slice(0, -1)}${f.nonce.endsWith('A') ? 'B' : 'A'}`)],
      ['altered channel-binding data (the proof no longer covers it)', (f: { cbind: string }) => void (f.cbind = 'eSws')],
      ['a proof shorter than a SHA-256 digest', (f: { proof: Buffer }) => void (f.proof = f.proof.subarray(0, 16))],
    ])('%s is rejected with 18, the connection stays unauthenticated and the conversation is over', async (_label, alter) => {
      const db = oneConnection();
      const err = (await caught(converse(db, { alter: alter as never }))) as MongoServerError;
      expect([err.code, err.message]).toEqual([18, 'Authentication failed.']);
      expect(((await caught(db.collection('x').findOne({}))) as MongoServerError).code).toBe(13);
      const again = (await caught(db.command({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.from('c=biws')) }))) as MongoServerError;
      expect([again.code, again.message]).toEqual([17, 'No SASL session state found']);
    });

    it('a proof computed from the wrong password is rejected with 18', async () => {
      const err = (await caught(converse(oneConnection(), { password: 'not-it' }))) as MongoServerError;
      expect([err.code, err.message]).toEqual([18, 'Authentication failed.']);
    });

    it('saslStart for an unknown user fails at once with 18; an unsupported mechanism is 334 MechanismUnavailable', async () => {
      const db = oneConnection();
      const unknown = (await caught(converse(db, { user: 'ghost' }))) as MongoServerError;
      expect([unknown.code, unknown.message]).toEqual([18, 'Authentication failed.']);
      const plain = (await caught(db.command({ saslStart: 1, mechanism: 'PLAIN', payload: new Binary(Buffer.from('\0a\0b')) }))) as MongoServerError;
      expect([plain.code, plain.codeName]).toEqual([334, 'MechanismUnavailable']);
    });
  });

  describe('what the server stores', () => {
    it("keeps mongod's SCRAM-SHA-256 credential fields only: 28-byte salt, 15000 iterations, StoredKey, ServerKey", () => {
      const stored = server.storedUsers().find((u) => u.user === 'app')!;
      expect(Object.keys(stored).sort()).toEqual(['credentials', 'db', 'user']);
      expect(Object.keys(stored.credentials)).toEqual(['SCRAM-SHA-256']);
      const creds = stored.credentials['SCRAM-SHA-256'];
      expect(Object.keys(creds).sort()).toEqual(['iterationCount', 'salt', 'serverKey', 'storedKey']);
      expect(creds.iterationCount).toBe(15_000);
      const salt = Buffer.from(creds.salt, 'base64');
      expect(salt.length).toBe(28);
      // The keys are the RFC 5802 ones for this password and salt, computed here independently.
      const salted = pbkdf2Sync(PASSWORD, salt, 15_000, 32, 'sha256');
      expect(creds.storedKey).toBe(createHash('sha256').update(hmac(salted, 'Client Key')).digest('base64'));
      expect(creds.serverKey).toBe(hmac(salted, 'Server Key').toString('base64'));
    });

    it('never holds a password anywhere in the server object graph, even after logins (the search finds a planted one: control)', async () => {
      await connect(mongoDrivers[0]!, uri(server, 'app', PASSWORD)).db(DB_NAME).command({ ping: 1 });
      await caught(connect(mongoDrivers[0]!, uri(server, 'shopper', 'typo-in-password', '?authSource=shop')).connect());
      for (const pw of [PASSWORD, SHOP_PASSWORD, 'typo-in-password']) {
        expect(pathToSecret(server, pw), pw).toBeNull();
        expect(JSON.stringify(server.storedUsers())).not.toContain(pw);
      }
      expect(pathToSecret({ a: [new Map([['k', { deep: `x${PASSWORD}y` }]])] }, PASSWORD)).toBe('.a[0]<k>.deep');
      expect(pathToSecret({ b: Buffer.from(PASSWORD) }, PASSWORD)).toBe('.b');
    });

    it('prints nothing and puts no password in any error while clients log in with right and wrong passwords', async () => {
      const capture = captureConsole();
      let errors: unknown[];
      try {
        await connect(mongoDrivers[1]!, uri(server, 'app', PASSWORD)).db(DB_NAME).command({ ping: 1 });
        errors = await Promise.all([
          caught(connect(mongoDrivers[0]!, uri(server, 'app', `${PASSWORD}-wrong`)).connect()),
          caught(connect(mongoDrivers[1]!, uri(noSpeculative, 'app', `${PASSWORD}-wrong`)).connect()),
        ]);
      } finally {
        capture.restore();
      }
      expect(capture.lines).toEqual([]);
      for (const err of errors) {
        expect((err as MongoServerError).code).toBe(18);
        for (const text of errorTexts(err)) expect(text).not.toContain(PASSWORD);
      }
    });
  });

  describe('the SCRAM arithmetic against RFC 7677 section 3', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const serverNonce = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const nonce = `rOprNGfwEbeRWgbNEkqO${serverNonce}`;
    const clientFinal = `c=biws,r=${nonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
    const conversation = (skipEmptyExchange: boolean) =>
      new ScramConversation({
        lookup: (user) => (user === 'user' ? scramSha256Credentials('pencil', 4096, salt) : undefined),
        skipEmptyExchange,
        serverNonce: () => serverNonce,
      });

    it("accepts the RFC's client proof and answers its ServerSignature", () => {
      const conv = conversation(true);
      const first = conv.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
      expect([first.done, first.payload.toString()]).toEqual([false, `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`]);
      const final = conv.step(Buffer.from(clientFinal));
      expect([final.done, final.payload.toString()]).toEqual([true, 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=']);
      expect(conv.authenticated).toBe('user');
    });

    it('without skipEmptyExchange the server waits for an empty third message before done', () => {
      const conv = conversation(false);
      conv.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
      expect(conv.step(Buffer.from(clientFinal)).done).toBe(false);
      expect(conv.authenticated).toBeNull();
      expect(conv.step(Buffer.alloc(0))).toEqual({ done: true, payload: Buffer.alloc(0) });
      expect(conv.authenticated).toBe('user');
    });

    it('rejects the same exchange with one character of the proof changed', () => {
      const conv = conversation(true);
      conv.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
      expect(() => conv.step(Buffer.from(clientFinal.replace('p=dHz', 'p=dHy')))).toThrow(ScramFailure);
      expect(conv.authenticated).toBeNull();
    });
  });
});

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Where `secret` is reachable from `root` (as a string or in bytes), or null.
 * Sockets and other emitters are skipped: they hold the network stack, not
 * the server's state, and the server never writes a password to them.
 */
function pathToSecret(root: unknown, secret: string): string | null {
  const bytes = Buffer.from(secret);
  const seen = new WeakSet<object>();
  const visit = (value: unknown, path: string): string | null => {
    if (typeof value === 'string') return value.includes(secret) ? path : null;
    if (value === null || typeof value !== 'object') return null;
    if (seen.has(value) || value instanceof EventEmitter) return null;
    seen.add(value);
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).includes(bytes) ? path : null;
    if (value instanceof Map) {
      for (const [k, v] of value) {
        const hit = visit(k, `${path}<key>`) ?? visit(v, `${path}<${String(k)}>`);
        if (hit) return hit;
      }
      return null;
    }
    if (value instanceof Set) {
      for (const v of value) {
        const hit = visit(v, `${path}{}`);
        if (hit) return hit;
      }
      return null;
    }
    for (const key of Reflect.ownKeys(value)) {
      const hit = visit((value as Record<string | symbol, unknown>)[key], Array.isArray(value) ? `${path}[${String(key)}]` : `${path}.${String(key)}`);
      if (hit) return hit;
    }
    return null;
  };
  return visit(root, '');
}
