// What one client connection has proved about itself: mongod keeps the
// authenticated user and any SASL conversation in progress per connection,
// not per client or per server.
import type { ScramConversation } from './scram.js';

export interface AuthenticatedUser {
  user: string;
  db: string;
}

export class AuthSession {
  user: AuthenticatedUser | null = null;
  /** The conversation a saslStart (or a speculative one in hello) opened, with the database it targets. */
  conversation: { db: string; scram: ScramConversation } | null = null;
}
