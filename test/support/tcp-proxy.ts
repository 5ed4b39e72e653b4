import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy between the code under test and a database, for outages on
 * demand: `down()` stops listening (connection refused), `cutAll()` resets
 * every open connection, `blackhole(true)` accepts and never answers,
 * `partition(true)` also silences the open connections, `latency(ms)` delays
 * every chunk, `dropSilently()` forgets the open connections the way a NAT or
 * a suspended VM does (no FIN: the client learns only when it next writes).
 * It counts what it accepted, which is what the database would have seen.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Client sockets whose connection was dropped silently: their next write is answered with a reset. */
  private readonly vanished = new WeakSet<Socket>();
  private holeMode = false;
  private frozen = false;
  private latencyMs = 0;
  /** Client connections accepted since construction. */
  accepted = 0;
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  /** Listens on 127.0.0.1 (port 0 the first time, the same port afterwards). */
  async up(): Promise<number> {
    if (this.server) return this.port;
    const server = createServer((client) => this.handle(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this.port;
  }

  /** Stops listening and resets every connection: the database "is down". */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cutAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  cutAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.resetAndDestroy?.() ?? s.destroy();
    this.sockets.clear();
    return n;
  }

  blackhole(on: boolean): void {
    this.holeMode = on;
  }

  /**
   * A network partition: new connections are blackholed and the open ones go
   * silent too (bytes in either direction are dropped, nothing is closed), so
   * a query already sent never gets its answer.
   */
  partition(on: boolean): void {
    this.holeMode = on;
    this.frozen = on;
  }

  /**
   * Every open connection vanishes without a word: the database's side is
   * closed (the server ends the session), the client's side stays open and
   * hears nothing, and the first bytes the client writes on it get a TCP
   * reset, as from a NAT that dropped the mapping or a peer that forgot the
   * connection while this side was frozen. New connections work as usual.
   * Returns how many client connections vanished.
   */
  dropSilently(): number {
    let n = 0;
    for (const s of this.sockets) {
      const upstream = (s as Socket & { upstream?: Socket }).upstream;
      if (!(s as Socket & { isClient?: boolean }).isClient || this.vanished.has(s)) continue;
      this.vanished.add(s);
      n++;
      upstream?.destroy();
    }
    return n;
  }

  latency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Open client connections now. */
  get open(): number {
    let n = 0;
    for (const s of this.sockets) if ((s as Socket & { isClient?: boolean }).isClient) n++;
    return n;
  }

  private handle(client: Socket): void {
    this.accepted++;
    (client as Socket & { isClient?: boolean }).isClient = true;
    this.sockets.add(client);
    client.on("error", () => {});
    client.on("close", () => this.sockets.delete(client));
    // Accept, answer nothing. What arrives is read and dropped: a socket never
    // read would not notice the other end closing (its FIN waits behind the
    // unread bytes), and `open` would count connections the client closed.
    if (this.holeMode) return void client.resume();
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    (client as Socket & { upstream?: Socket }).upstream = upstream;
    this.sockets.add(upstream);
    // A vanished connection's client side must not hear its upstream close.
    upstream.on("error", () => {
      if (!this.vanished.has(client)) client.destroy();
    });
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      if (!this.vanished.has(client)) client.destroy();
    });
    client.on("close", () => upstream.destroy());
    const pipe = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (this.vanished.has(client)) {
          if (from === client) client.resetAndDestroy();
          return;
        }
        if (this.frozen) return;
        if (this.latencyMs > 0) setTimeout(() => to.write(chunk), this.latencyMs);
        else to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
  }
}

/** A started proxy in front of the server of a database URL. */
export async function proxyInFrontOf(databaseUrl: string, defaultPort: number): Promise<TcpProxy> {
  const url = new URL(databaseUrl);
  const proxy = new TcpProxy(url.hostname, Number(url.port || defaultPort));
  await proxy.up();
  return proxy;
}
