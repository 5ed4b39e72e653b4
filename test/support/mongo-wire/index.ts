export { MongoWireServer, type ConnectionInfo, type MongoWireServerOptions } from './server.js';
export type { InjectedError } from './faults.js';
export type { StoredUser, UserDefinition } from './auth/credentials.js';
export type { AuthenticatedUser } from './auth/session.js';
