// Authentication commands (saslStart, saslContinue, connectionStatus), the
// authentication fields of the hello reply, and which commands a connection
// may run before it authenticates. Behaviour follows mongod's sasl_commands
// and hello: conversationId is always 1, every failed step is the same
// "Authentication failed." (code 18) whatever went wrong, and a failed
// speculative attempt is simply left out of the hello reply.
import { Binary, type Document } from 'bson';
import { SCRAM_SHA_256 } from '../auth/credentials.js';
import { ScramConversation } from '../auth/scram.js';
import type { AuthSession } from '../auth/session.js';
import { CommandError, badValue, typeMismatch } from '../errors.js';
import { isPlainObject } from '../values.js';
import type { CommandContext, CommandHandler } from './context.js';

// mongod registers both SCRAM mechanisms. Users here only have SCRAM-SHA-256
// credentials (createUser with mechanisms: ['SCRAM-SHA-256']), so a
// SCRAM-SHA-1 attempt fails its first step, as it would on such a mongod.
const SCRAM_SHA_1 = 'SCRAM-SHA-1';
const REGISTERED_MECHANISMS = new Set([SCRAM_SHA_1, SCRAM_SHA_256]);

/** mongod's commands whose requiresAuth() is false (among those this server implements). */
const ALLOWED_BEFORE_AUTH = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'ping',
  'buildInfo',
  'buildinfo',
  'saslStart',
  'saslContinue',
  'connectionStatus',
]);

const authenticationFailed = () => new CommandError(18, 'AuthenticationFailed', 'Authentication failed.');
const protocolError = (msg: string) => new CommandError(17, 'ProtocolError', msg);

/** Code 13 for a command this connection may not run yet; null when it may. */
export function checkAuthenticated(ctx: CommandContext, name: string): CommandError | null {
  if (!ctx.auth.required || ctx.auth.session.user || ALLOWED_BEFORE_AUTH.has(name)) return null;
  return new CommandError(13, 'Unauthorized', `Command ${name} requires authentication`);
}

interface SaslPayload {
  bytes: Buffer;
  /** mongod answers in the form it was asked: a base64 string for a string, BinData for BinData. */
  asString: boolean;
}

function readPayload(v: unknown): SaslPayload {
  if (typeof v === 'string') return { bytes: Buffer.from(v, 'base64'), asString: true };
  if (v instanceof Binary) return { bytes: Buffer.from(v.value()), asString: false };
  throw typeMismatch("'payload' must be BinData or a base64 string");
}

function runStep(session: AuthSession, db: string, scram: ScramConversation, payload: SaslPayload): Document {
  let step;
  try {
    step = scram.step(payload.bytes);
  } catch {
    // The reason stays here: all the client learns is that authentication failed.
    session.conversation = null;
    throw authenticationFailed();
  }
  if (scram.authenticated !== null) {
    session.user = { user: scram.authenticated, db };
    session.conversation = null;
  } else {
    session.conversation = { db, scram };
  }
  return {
    conversationId: 1,
    done: step.done,
    payload: payload.asString ? step.payload.toString('base64') : new Binary(step.payload),
  };
}

/** The saslStart reply (without ok), shared by the command and by speculative authentication in hello. */
function startConversation(ctx: CommandContext, db: string, cmd: Document): Document {
  const session = ctx.auth.session;
  // A new saslStart abandons whatever conversation was in progress.
  session.conversation = null;
  const mechanism = cmd.mechanism;
  if (typeof mechanism !== 'string') throw badValue("saslStart requires a 'mechanism' string");
  if (!REGISTERED_MECHANISMS.has(mechanism)) {
    throw new CommandError(334, 'MechanismUnavailable', `Unsupported mechanism '${mechanism}' on authentication database '${db}'`);
  }
  const options = cmd.options;
  if (options !== undefined && !isPlainObject(options)) throw typeMismatch("'options' must be a document");
  const skip = options?.skipEmptyExchange;
  if (skip !== undefined && typeof skip !== 'boolean') throw badValue('skipEmptyExchange must be boolean');

  const users = ctx.auth.users;
  const scram = new ScramConversation({
    lookup: (user) => (mechanism === SCRAM_SHA_256 ? users?.find(user, db)?.credentials[SCRAM_SHA_256] : undefined),
    skipEmptyExchange: skip === true,
  });
  return runStep(session, db, scram, readPayload(cmd.payload));
}

const saslStart: CommandHandler = (ctx) => ({ ...startConversation(ctx, ctx.db, ctx.body), ok: 1 });

const saslContinue: CommandHandler = (ctx) => {
  const session = ctx.auth.session;
  const conversation = session.conversation;
  // As in mongod, a saslContinue that fails these checks also ends the conversation.
  session.conversation = null;
  if (!conversation) throw protocolError('No SASL session state found');
  if (conversation.db !== ctx.db) throw protocolError('Attempt to switch database target during SASL authentication.');
  if (ctx.body.conversationId !== 1) throw protocolError('sasl: Mismatched conversation id');
  return { ...runStep(session, ctx.db, conversation.scram, readPayload(ctx.body.payload)), ok: 1 };
};

const connectionStatus: CommandHandler = (ctx) => {
  const user = ctx.auth.session.user;
  return {
    authInfo: { authenticatedUsers: user ? [{ user: user.user, db: user.db }] : [], authenticatedUserRoles: [] },
    ok: 1,
  };
};

/**
 * saslSupportedMechs and speculativeAuthenticate for a hello/isMaster reply.
 * An unknown user gets no saslSupportedMechs field, and a speculative
 * saslStart that fails leaves speculativeAuthenticate out: mongod says
 * nothing more in the handshake, the driver then fails with code 18.
 */
export function handshakeAuthFields(ctx: CommandContext): Document {
  const out: Document = {};
  const asked = ctx.body.saslSupportedMechs;
  if (typeof asked === 'string') {
    const dot = asked.indexOf('.');
    if (dot > 0 && ctx.auth.users?.find(asked.slice(dot + 1), asked.slice(0, dot))) {
      out.saslSupportedMechs = [SCRAM_SHA_256];
    }
  }
  const speculative = ctx.body.speculativeAuthenticate;
  if (ctx.auth.speculative && isPlainObject(speculative) && speculative.saslStart !== undefined && typeof speculative.db === 'string') {
    try {
      out.speculativeAuthenticate = startConversation(ctx, speculative.db, speculative);
    } catch {
      // Left out, as mongod does.
    }
  }
  return out;
}

export const authCommands: Record<string, CommandHandler> = { saslStart, saslContinue, connectionStatus };
