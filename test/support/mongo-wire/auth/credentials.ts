// SCRAM-SHA-256 credentials as mongod keeps them in admin.system.users:
// salt, iteration count, StoredKey and ServerKey (RFC 5802 §3), never the
// password. The password lives only as long as the constructor that derives them.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { saslprep } from '@mongodb-js/saslprep';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** mongod's default scramSHA256IterationCount. */
export const DEFAULT_ITERATION_COUNT = 15_000;
/** RFC 7677 and the driver specification require at least 4096 iterations. */
export const MIN_ITERATION_COUNT = 4096;
/** mongod's salt for SCRAM-SHA-256: the hash length less 4 bytes. */
export const SALT_LENGTH = 28;

export interface ScramCredentials {
  iterationCount: number;
  /** base64 */
  salt: string;
  /** base64 of H(ClientKey) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

export interface StoredUser {
  user: string;
  db: string;
  credentials: { [SCRAM_SHA_256]: ScramCredentials };
}

export interface UserDefinition {
  user: string;
  password: string;
  /** The user's authentication database; 'admin' when omitted. */
  db?: string;
}

export const hmacSha256 = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** SaltedPassword := Hi(SASLprep(password), salt, i), with Hi = PBKDF2-HMAC-SHA-256. */
export function scramSha256Credentials(password: string, iterationCount: number, salt: Buffer = randomBytes(SALT_LENGTH)): ScramCredentials {
  let prepared: string;
  try {
    prepared = saslprep(password);
  } catch {
    // saslprep's own message names no input, but keep it that way whatever its version.
    throw new Error('password is not valid under SASLprep (RFC 4013)');
  }
  const saltedPassword = pbkdf2Sync(prepared, salt, iterationCount, 32, 'sha256');
  return {
    iterationCount,
    salt: salt.toString('base64'),
    storedKey: sha256(hmacSha256(saltedPassword, 'Client Key')).toString('base64'),
    serverKey: hmacSha256(saltedPassword, 'Server Key').toString('base64'),
  };
}

/** The server's users, keyed like mongod's UserName: user and authentication database. */
export class UserStore {
  private readonly users = new Map<string, StoredUser>();

  constructor(definitions: UserDefinition[], iterationCount = DEFAULT_ITERATION_COUNT) {
    if (!Number.isInteger(iterationCount) || iterationCount < MIN_ITERATION_COUNT) {
      throw new Error(`scramIterationCount must be an integer >= ${MIN_ITERATION_COUNT}`);
    }
    for (const { user, password, db = 'admin' } of definitions) {
      if (typeof user !== 'string' || user === '') throw new Error('every user needs a non-empty name');
      const key = UserStore.key(user, db);
      if (this.users.has(key)) throw new Error(`user '${user}' is defined twice on '${db}'`);
      let credentials: ScramCredentials;
      try {
        credentials = scramSha256Credentials(password, iterationCount);
      } catch (err) {
        throw new Error(`user '${user}' on '${db}': ${(err as Error).message}`);
      }
      this.users.set(key, { user, db, credentials: { [SCRAM_SHA_256]: credentials } });
    }
  }

  private static key(user: string, db: string): string {
    return `${db}\u0000${user}`;
  }

  get size(): number {
    return this.users.size;
  }

  find(user: string, db: string): StoredUser | undefined {
    return this.users.get(UserStore.key(user, db));
  }

  /** Copies of what is stored, for tests that check what the server keeps. */
  list(): StoredUser[] {
    return [...this.users.values()].map((u) => ({
      user: u.user,
      db: u.db,
      credentials: { [SCRAM_SHA_256]: { ...u.credentials[SCRAM_SHA_256] } },
    }));
  }
}
