/** One request as a client saw it. */
export interface Exchange {
  client: number;
  startedAt: number;
  endedAt: number;
  status: number | "error";
  retryAfter: string | null;
  body: string;
}

export interface ClientLoop {
  readonly done: Exchange[];
  /** Requests sent and not answered yet. */
  inFlight(): number;
  /** Resolves once `accept` holds for the answered requests (checked after each answer). */
  until(accept: (done: readonly Exchange[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Stops sending; resolves when every request in flight has its answer. */
  stop(): Promise<Exchange[]>;
}

/**
 * `clients` concurrent clients, each sending its next request as soon as the
 * previous one is answered (plus `pauseMs`), recording when each started and
 * ended: sustained traffic whose every request can be placed in time against
 * a fault.
 */
export function clientLoop(url: string, clients: number, o: { pauseMs?: number; timeoutMs?: number } = {}): ClientLoop {
  const done: Exchange[] = [];
  let running = true;
  let pending = 0;
  const waiters = new Set<() => void>();
  const one = async (client: number): Promise<void> => {
    const startedAt = Date.now();
    pending++;
    let exchange: Exchange;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
      const body = await res.text();
      exchange = { client, startedAt, endedAt: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after"), body };
    } catch (err) {
      exchange = { client, startedAt, endedAt: Date.now(), status: "error", retryAfter: null, body: String((err as Error).message) };
    }
    pending--;
    done.push(exchange);
    for (const wake of waiters) wake();
  };
  const loops = Array.from({ length: clients }, async (_, client) => {
    while (running) {
      await one(client);
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  });
  return {
    done,
    inFlight: () => pending,
    until(accept, timeoutMs, what) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!accept(done)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${done.length} requests answered`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return done;
    },
  };
}
