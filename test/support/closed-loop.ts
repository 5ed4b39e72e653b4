/**
 * Closed-loop clients for the load scenarios that need more than a status
 * count: each of `clients` sends a request, reads the whole answer (status,
 * latency, `Retry-After`, the 503's `reason`), and sends the next one, until
 * `seconds` have passed. Slower than autocannon, which is fine for requests
 * that hold a connection for hundreds of milliseconds.
 */
export interface Answered {
  status: number | "timeout" | "error";
  /** From sending to the end of the body, in ms. */
  ms: number;
  /** When the answer completed (ms since epoch). */
  at: number;
  retryAfter: string | null;
  /** The JSON body's `reason` (503s from the package), else null. */
  reason: string | null;
}

export interface ClosedLoopResult {
  answers: Answered[];
  /** When the clients started and when they stopped sending (ms since epoch). */
  startedAt: number;
  until: number;
  /** Until the last answer came, in s. */
  seconds: number;
}

export async function closedLoop(url: string, o: { clients: number; seconds: number; timeoutMs?: number }): Promise<ClosedLoopResult> {
  const started = Date.now();
  const until = started + o.seconds * 1000;
  const answers: Answered[] = [];
  const client = async () => {
    while (Date.now() < until) answers.push(await once(url, o.timeoutMs ?? 15_000));
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  return { answers, startedAt: started, until, seconds: (Date.now() - started) / 1000 };
}

/** One request, read to its end. */
export async function once(url: string, timeoutMs = 15_000): Promise<Answered> {
  const sent = performance.now();
  const done = (status: Answered["status"], retryAfter: string | null = null, reason: string | null = null): Answered => ({
    status, ms: Math.round(performance.now() - sent), at: Date.now(), retryAfter, reason,
  });
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let reason: string | null = null;
    try {
      reason = (JSON.parse(text) as { reason?: string }).reason ?? null;
    } catch {
      // not JSON: an app's own error page
    }
    return done(res.status, res.headers.get("retry-after"), reason);
  } catch (err) {
    return done((err as Error).name === "TimeoutError" ? "timeout" : "error");
  }
}

/** status → count, for a figures row. */
export function statusCounts(answers: Answered[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[String(a.status)] = (counts[String(a.status)] ?? 0) + 1;
  return counts;
}

export function count(answers: Answered[], status: Answered["status"]): number {
  return answers.filter((a) => a.status === status).length;
}

/** Answers that completed while the clients were still sending: a rate that the tail of queued requests does not inflate. */
export function withinWindow(result: ClosedLoopResult): Answered[] {
  return result.answers.filter((a) => a.at <= result.until);
}
