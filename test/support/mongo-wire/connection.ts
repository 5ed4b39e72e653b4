// One accepted client socket: splits the stream into messages and answers
// them strictly in arrival order (a reply delay must not reorder replies).
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import {
  OP_MSG,
  OP_QUERY,
  buildOpMsg,
  buildOpReply,
  MessageSplitter,
  parseOpMsg,
  parseOpQuery,
  readHeader,
  type CommandRequest,
} from './framing.js';
import { AuthSession } from './auth/session.js';
import type { ClientMetadata } from './handshake.js';

export type RequestHandler = (conn: ClientConnection, request: CommandRequest) => Promise<Document | null>;

let nextRequestId = 1;

export class ClientConnection {
  metadata: ClientMetadata = {};
  /** Commands other than hello/isMaster: zero means this is a monitoring connection. */
  operations = 0;
  readonly auth = new AuthSession();
  private readonly splitter = new MessageSplitter();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly handler: RequestHandler,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Clients reset sockets all the time (close, kill, outages); that is not an error here.
    socket.on('error', () => {});
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  private onData(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.splitter.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const message of messages) {
      this.queue = this.queue.then(() => this.process(message)).catch(() => {
        this.socket.destroy();
      });
    }
  }

  private async process(message: Buffer): Promise<void> {
    const header = readHeader(message);
    let request: CommandRequest;
    if (header.opCode === OP_MSG) request = parseOpMsg(header, message);
    else if (header.opCode === OP_QUERY) request = parseOpQuery(header, message);
    else throw new Error(`unsupported opCode ${header.opCode}`); // e.g. OP_COMPRESSED, never negotiated

    const reply = await this.handler(this, request);
    if (reply === null || request.moreToCome || this.socket.destroyed) return;
    const requestId = nextRequestId++;
    const bytes =
      request.opCode === OP_QUERY
        ? buildOpReply(requestId, header.requestId, reply)
        : buildOpMsg(requestId, header.requestId, reply);
    this.socket.write(bytes);
  }
}
