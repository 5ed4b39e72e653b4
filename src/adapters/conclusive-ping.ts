/**
 * A probe's ping must judge the server, not one pooled connection. When the
 * server ends several idle connections at once (a restart, a failover,
 * `pg_terminate_backend`, `KILL`, an idle timeout), the first one's `error`
 * starts the probe while the others still sit in the pool, dead, their
 * `error` not read yet: a ping on one of them fails and says nothing about the
 * server. So a connection that was idle and turns out lost is discarded and
 * the ping tried again; the answer on a new connection, or any other failure,
 * is the verdict. Each retry removes one dead connection from the pool, and
 * all of them share the ping's time.
 */
export async function conclusivePing(o: {
  timeoutMs: number;
  /** Connections idle in the pool now: the next checkout reuses one of them. */
  idleConnections(): number;
  /** One checkout and `SELECT 1` within `leftMs`; a connection that fails is destroyed, not returned. */
  once(leftMs: number): Promise<void>;
  /** The error says the connection was lost (not the server's answer to the query). */
  lost(err: unknown): boolean;
}): Promise<void> {
  const started = Date.now();
  for (;;) {
    const reused = o.idleConnections() > 0;
    try {
      await o.once(Math.max(1, o.timeoutMs - (Date.now() - started)));
      return;
    } catch (err) {
      if (!reused || !o.lost(err) || Date.now() - started >= o.timeoutMs) throw err;
    }
  }
}
