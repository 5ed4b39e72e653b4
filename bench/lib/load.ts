// autocannon against one route, for a fixed duration or a fixed number of requests.
import autocannon from "autocannon";

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  requests: number;
  seconds: number;
}

export async function load(url: string, options: { connections: number; seconds?: number; amount?: number }): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
    // Generous: 2 shared cores, and strategy a can queue behind connects.
    timeout: 30,
  });
  const requests = result.requests.total;
  return {
    requestsPerSecond: result.duration > 0 ? requests / result.duration : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // autocannon counts timeouts inside errors.
    errors: result.errors + result.non2xx,
    requests,
    seconds: result.duration,
  };
}
