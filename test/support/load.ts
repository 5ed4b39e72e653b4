import autocannon from "autocannon";

export interface LoadResult {
  requests: number;
  /** status code, "timeout" or "error" → count */
  statuses: Record<string, number>;
  maxLatencyMs: number;
  /** Every answered request: when it completed (ms since epoch) and its status. */
  timeline: Array<{ at: number; status: number }>;
  /** How long the load actually ran, in s (shorter than asked when `stopWhen` fired). */
  seconds: number;
}

/**
 * Bounded load on loopback: `connections` concurrent clients for at most
 * `seconds` (or until `stopWhen` settles, or `stopAfterResponses` responses
 * have come back), each request given `timeoutS` before it counts as a
 * timeout. Statuses are counted per response, so a 500 among thousands of
 * 200s is never lost in an average. Ending on an event rather than a duration
 * keeps a loaded machine from ending the load before anything was answered.
 */
export function runLoad(
  url: string,
  o: {
    connections: number;
    seconds: number;
    timeoutS?: number;
    stopWhen?: Promise<unknown>;
    stopAfterResponses?: number;
    /** Every response as it comes, for a scenario that paces its faults on the answers. */
    onResponse?: (status: number) => void;
  },
): Promise<LoadResult> {
  const started = Date.now();
  const statuses: Record<string, number> = {};
  const timeline: LoadResult["timeline"] = [];
  let maxLatencyMs = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections: o.connections, duration: o.seconds, timeout: o.timeoutS ?? 10 },
      (err, result) => {
        if (err) return reject(err);
        const errors = result.errors - result.timeouts;
        if (result.timeouts > 0) statuses.timeout = result.timeouts;
        if (errors > 0) statuses.error = errors;
        const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({ requests, statuses, maxLatencyMs: Math.round(maxLatencyMs), timeline, seconds: Math.round((Date.now() - started) / 100) / 10 });
      },
    );
    // `seconds` is the upper bound; a scenario may end the load earlier.
    void o.stopWhen?.then(() => instance.stop());
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (responseTime > maxLatencyMs) maxLatencyMs = responseTime;
      timeline.push({ at: Date.now(), status: statusCode });
      o.onResponse?.(statusCode);
      if (timeline.length === o.stopAfterResponses) instance.stop();
    });
  });
}

/**
 * Time from `faultEnd` (the database accepting connections again) to steady
 * success: the first 200 that follows the last failed response and completes
 * after `faultEnd`. 0 when nothing failed at all; null when success never
 * came back.
 */
export function recoveryMs(timeline: LoadResult["timeline"], faultEnd: number): number | null {
  let lastFailure = -1;
  timeline.forEach((r, i) => {
    if (r.status !== 200) lastFailure = i;
  });
  if (lastFailure === -1) return 0;
  const firstGood = timeline.slice(lastFailure + 1).find((r) => r.status === 200 && r.at >= faultEnd);
  return firstGood ? firstGood.at - faultEnd : null;
}
