// The server side of one SCRAM-SHA-256 conversation (RFC 5802 §5, RFC 7677),
// with MongoDB's variations: user names are not SASLprep'd, channel binding
// is not offered, and `skipEmptyExchange` lets the server finish with its
// signature instead of waiting for an empty third client message.
//
// Every failure is a ScramFailure whose reason is for debugging this server
// only: the command layer answers the client with mongod's one message
// ("Authentication failed."), and no reason ever quotes a proof or a key.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmacSha256, sha256, type ScramCredentials } from './credentials.js';

export class ScramFailure extends Error {}

export interface ScramStep {
  done: boolean;
  payload: Buffer;
}

export interface ScramOptions {
  /** Credentials of `user` on this conversation's database, or undefined when there is no such user. */
  lookup(user: string): ScramCredentials | undefined;
  skipEmptyExchange: boolean;
  /** The server's half of the nonce; tests pass a fixed one to replay RFC 7677's example. */
  serverNonce?: () => string;
}

type State =
  | { step: 'first' }
  | { step: 'final'; user: string; credentials: ScramCredentials; nonce: string; authMessagePrefix: string }
  | { step: 'empty'; user: string }
  | { step: 'finished' };

// mongod: 24 random bytes, base64 (32 printable characters, never a comma).
const defaultServerNonce = () => randomBytes(24).toString('base64');

export class ScramConversation {
  private state: State = { step: 'first' };
  /** The user this conversation authenticated, once it has. */
  authenticated: string | null = null;

  constructor(private readonly options: ScramOptions) {}

  step(payload: Buffer): ScramStep {
    const message = payload.toString('utf8');
    const state = this.state;
    // A failed step ends the conversation; the client has to start over.
    this.state = { step: 'finished' };
    switch (state.step) {
      case 'first':
        return this.first(message);
      case 'final':
        return this.final(message, state);
      case 'empty':
        if (message !== '') throw new ScramFailure('third client message must be empty');
        this.authenticated = state.user;
        return { done: true, payload: Buffer.alloc(0) };
      case 'finished':
        throw new ScramFailure('conversation already finished');
    }
  }

  /** client-first-message = gs2-header client-first-message-bare, e.g. "n,,n=user,r=nonce". */
  private first(message: string): ScramStep {
    const [cbindFlag, authzid, ...bareParts] = message.split(',');
    if (cbindFlag === undefined || authzid === undefined) throw new ScramFailure('malformed client-first-message');
    if (cbindFlag.startsWith('p=')) throw new ScramFailure('channel binding is not supported');
    if (cbindFlag !== 'n' && cbindFlag !== 'y') throw new ScramFailure('bad gs2-cbind-flag');
    if (authzid !== '' && !authzid.startsWith('a=')) throw new ScramFailure('bad authzid');
    const bare = bareParts.join(',');
    if (bare.startsWith('m=')) throw new ScramFailure('mandatory extensions are not supported');

    const [userAttr, nonceAttr] = bareParts;
    if (!userAttr?.startsWith('n=') || userAttr.length < 3) throw new ScramFailure('missing user name');
    if (!nonceAttr?.startsWith('r=') || nonceAttr.length < 3) throw new ScramFailure('missing client nonce');
    const user = decodeSaslName(userAttr.slice(2));
    if (authzid !== '' && decodeSaslName(authzid.slice(2)) !== user) throw new ScramFailure('authzid is not the user');

    const credentials = this.options.lookup(user);
    if (!credentials) throw new ScramFailure('no such user');

    const nonce = nonceAttr.slice(2) + (this.options.serverNonce ?? defaultServerNonce)();
    const serverFirst = `r=${nonce},s=${credentials.salt},i=${credentials.iterationCount}`;
    this.state = { step: 'final', user, credentials, nonce, authMessagePrefix: `${bare},${serverFirst}` };
    return { done: false, payload: Buffer.from(serverFirst, 'utf8') };
  }

  /** client-final-message = "c=…,r=…[,extensions],p=ClientProof". */
  private final(message: string, state: Extract<State, { step: 'final' }>): ScramStep {
    const lastComma = message.lastIndexOf(',');
    if (lastComma < 0) throw new ScramFailure('malformed client-final-message');
    const withoutProof = message.slice(0, lastComma);
    const proofAttr = message.slice(lastComma + 1);
    if (!proofAttr.startsWith('p=')) throw new ScramFailure('missing proof');
    const [channelBinding, nonceAttr] = withoutProof.split(',');
    if (!channelBinding?.startsWith('c=')) throw new ScramFailure('missing channel binding');
    if (nonceAttr !== `r=${state.nonce}`) throw new ScramFailure('nonce mismatch');

    const proof = Buffer.from(proofAttr.slice(2), 'base64');
    const storedKey = Buffer.from(state.credentials.storedKey, 'base64');
    if (proof.length !== storedKey.length) throw new ScramFailure('proof has the wrong length');

    // AuthMessage covers every message so far, channel binding included: a
    // message altered in transit changes it and the proof no longer verifies.
    const authMessage = `${state.authMessagePrefix},${withoutProof}`;
    const clientSignature = hmacSha256(storedKey, authMessage);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(sha256(clientKey), storedKey)) throw new ScramFailure('proof does not match StoredKey');

    const serverSignature = hmacSha256(Buffer.from(state.credentials.serverKey, 'base64'), authMessage);
    const payload = Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
    if (this.options.skipEmptyExchange) {
      this.authenticated = state.user;
      return { done: true, payload };
    }
    this.state = { step: 'empty', user: state.user };
    return { done: false, payload };
  }
}

/** RFC 5802 saslname: "=2C" is a comma and "=3D" an equals sign. Like mongod, a bare "=" passes as is. */
function decodeSaslName(name: string): string {
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}
