export { MongoWireServer, type ConnectionInfo, type MongoWireServerOptions } from './server.js';
export type { InjectedError } from './faults.js';
