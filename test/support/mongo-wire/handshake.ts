// The hello / isMaster reply of a standalone server.
import type { Document } from 'bson';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
/** Wire version 21 = MongoDB 7.0; both driver 6.x and 7.x accept it. */
export const MAX_WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

export interface ClientMetadata {
  appName?: string;
  driverName?: string;
  driverVersion?: string;
}

export function readClientMetadata(body: Document): ClientMetadata | null {
  const client = body.client as Document | undefined;
  if (!client || typeof client !== 'object') return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    appName: str((client.application as Document | undefined)?.name),
    driverName: str((client.driver as Document | undefined)?.name),
    driverVersion: str((client.driver as Document | undefined)?.version),
  };
}

export function helloReply(connectionId: number): Document {
  // No topologyVersion: its absence makes drivers poll with hello instead of
  // opening a streaming (exhaust) monitor, which this server does not speak.
  // No `compression` either, so clients never send OP_COMPRESSED.
  return {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}
