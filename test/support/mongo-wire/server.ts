// MongoWireServer: a TCP listener speaking enough of the MongoDB wire protocol
// for the official driver, with controls for simulating outages and faults.
import net from 'node:net';
import type { Document } from 'bson';
import { DEFAULT_ITERATION_COUNT, UserStore, type StoredUser, type UserDefinition } from './auth/credentials.js';
import type { AuthenticatedUser } from './auth/session.js';
import { commandName, runCommand } from './commands/index.js';
import { ClientConnection } from './connection.js';
import { CursorStore } from './cursors.js';
import { Faults, type InjectedError } from './faults.js';
import { OP_QUERY, type CommandRequest } from './framing.js';
import { readClientMetadata } from './handshake.js';
import { Storage } from './storage.js';

export interface MongoWireServerOptions {
  port?: number;
  host?: string;
  /**
   * Users, each with SCRAM-SHA-256 credentials. When given (non-empty), the
   * server requires authentication the way `mongod --auth` does; without
   * users it accepts every command, as before.
   */
  users?: UserDefinition[];
  /** Iterations for the users' salted passwords; mongod's default is 15000. */
  scramIterationCount?: number;
  /** Answer speculativeAuthenticate in hello (mongod 4.4+). false makes drivers fall back to saslStart. */
  speculativeAuthentication?: boolean;
}

export interface ConnectionInfo {
  id: number;
  appName?: string;
  driverName?: string;
  driverVersion?: string;
  remotePort: number;
  /** Commands other than hello/isMaster seen on this socket; 0 for a driver's monitoring connection. */
  operations: number;
  /** The user this connection authenticated as; absent when it has not. */
  user?: AuthenticatedUser;
}

const HELLO_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


export class MongoWireServer {
  readonly host: string;
  private boundPort: number;
  private listener: net.Server | null = null;
  private readonly sockets = new Map<number, ClientConnection>();
  private nextConnectionId = 1;
  private accepted = 0;
  private refused = 0;
  private readonly commandCounts = new Map<string, number>();
  private readonly failedCounts = new Map<string, number>();
  private readonly notFound = new Set<string>();
  private readonly storage = new Storage();
  private readonly cursors = new CursorStore();
  private readonly faults = new Faults();
  private readonly users: UserStore | null;
  private readonly speculativeAuthentication: boolean;

  constructor(options: MongoWireServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
    const users = options.users ?? [];
    this.users = users.length ? new UserStore(users, options.scramIterationCount ?? DEFAULT_ITERATION_COUNT) : null;
    this.speculativeAuthentication = options.speculativeAuthentication ?? true;
  }

  /** What the server keeps per user (salt, iterations, StoredKey, ServerKey), as copies. */
  storedUsers(): StoredUser[] {
    return this.users?.list() ?? [];
  }

  /** Listens (on the same port as last time after a stop()) and returns the connection string. */
  async start(): Promise<string> {
    if (this.listener) return this.uri;
    const listener = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.boundPort, this.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    if (address && typeof address === 'object') this.boundPort = address.port;
    this.listener = listener;
    return this.uri;
  }

  /** An outage: stops listening and cuts every client socket. Data survives for the next start(). */
  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = null;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    this.killAllConnections();
    await closed;
  }

  get port(): number {
    return this.boundPort;
  }

  get uri(): string {
    return `mongodb://${this.host}:${this.boundPort}`;
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Sockets accepted and served since construction (refused ones are counted in totalRefused). */
  get totalAccepted(): number {
    return this.accepted;
  }

  get totalRefused(): number {
    return this.refused;
  }

  connections(): ConnectionInfo[] {
    return [...this.sockets.values()].map((c) => ({
      id: c.id,
      ...(c.metadata.appName !== undefined ? { appName: c.metadata.appName } : {}),
      ...(c.metadata.driverName !== undefined ? { driverName: c.metadata.driverName } : {}),
      ...(c.metadata.driverVersion !== undefined ? { driverVersion: c.metadata.driverVersion } : {}),
      remotePort: c.remotePort,
      operations: c.operations,
      ...(c.auth.user ? { user: { ...c.auth.user } } : {}),
    }));
  }

  killAllConnections(): number {
    const all = [...this.sockets.values()];
    for (const c of all) c.socket.destroy();
    // Forget them now rather than on 'close', so counts read right after a kill are already 0.
    this.sockets.clear();
    return all.length;
  }

  refuseConnections(on: boolean): void {
    this.faults.refuseConnections = on;
  }

  setReplyDelay(ms: number): void {
    this.faults.replyDelayMs = Math.max(0, ms);
  }

  /** The next n matching commands fail with `error` (default code 1). hello/isMaster/ping/endSessions are spared unless listed. */
  failNextCommands(n: number, error?: InjectedError, options?: { commands?: string[] }): void {
    this.faults.failNext(n, error, options?.commands);
  }

  /** Drops all data and open cursors and clears every fault; connections and counters are kept. */
  reset(): void {
    this.storage.clear();
    this.cursors.clear();
    this.faults.clear();
  }

  /** Commands received by exact name (e.g. 'getMore'); all commands when name is omitted. */
  commandCount(name?: string): number {
    if (name === undefined) return [...this.commandCounts.values()].reduce((a, b) => a + b, 0);
    return this.commandCounts.get(name) ?? 0;
  }

  /** Commands answered with an error (`ok: 0`) by exact name (e.g. 'saslContinue': refused logins); all when name is omitted. */
  failedCommandCount(name?: string): number {
    if (name === undefined) return [...this.failedCounts.values()].reduce((a, b) => a + b, 0);
    return this.failedCounts.get(name) ?? 0;
  }

  /** Names of the commands this server answered with CommandNotFound (59): what a client needed and did not get. */
  commandsNotFound(): string[] {
    return [...this.notFound].sort();
  }

  get openCursorCount(): number {
    return this.cursors.size;
  }

  private accept(socket: net.Socket): void {
    if (this.faults.refuseConnections) {
      this.refused++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.accepted++;
    const conn = new ClientConnection(this.nextConnectionId++, socket, (c, req) => this.handle(c, req));
    this.sockets.set(conn.id, conn);
    socket.on('close', () => {
      if (this.sockets.get(conn.id) === conn) this.sockets.delete(conn.id);
    });
  }

  private async handle(conn: ClientConnection, request: CommandRequest): Promise<Document | null> {
    const { body } = request;
    const name = commandName(body);
    this.commandCounts.set(name, (this.commandCounts.get(name) ?? 0) + 1);
    const isHello = HELLO_COMMANDS.has(name);
    if (isHello) {
      const metadata = readClientMetadata(body);
      if (metadata) conn.metadata = metadata;
    } else {
      conn.operations++;
    }

    if (this.faults.replyDelayMs > 0) await sleep(this.faults.replyDelayMs);

    // Servers since 5.1 accept OP_QUERY only for the handshake.
    if (request.opCode === OP_QUERY && !isHello) {
      return { ok: 0, errmsg: 'Unsupported OP_QUERY command: ' + name, code: 352, codeName: 'UnsupportedOpQueryCommand' };
    }
    const injected = this.faults.take(name);
    const reply = injected ?? (await this.run(conn, request, name));
    if (reply.ok === 0) this.failedCounts.set(name, (this.failedCounts.get(name) ?? 0) + 1);
    return reply;
  }

  private async run(conn: ClientConnection, request: CommandRequest, name: string): Promise<Document> {
    const { body } = request;
    const reply = await runCommand({
      db: request.db,
      body,
      storage: this.storage,
      cursors: this.cursors,
      connectionId: conn.id,
      stats: () => ({ current: this.sockets.size, totalCreated: this.accepted }),
      auth: {
        required: this.users !== null,
        users: this.users,
        session: conn.auth,
        speculative: this.speculativeAuthentication,
      },
    });
    if (reply.code === 59) this.notFound.add(name);
    return reply;
  }
}
