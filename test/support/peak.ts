/**
 * Samples a server-side count (pg_stat_activity, processlist, the wire
 * server) every `intervalMs` while something runs, and keeps the highest.
 */
export function samplePeak(read: () => Promise<number> | number, intervalMs = 5): { stop(): Promise<{ peak: number; samples: number }> } {
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const n = await read();
      samples++;
      if (n > peak) peak = n;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      // One last reading: the count may still be at its highest.
      const n = await read();
      if (n > peak) peak = n;
      return { peak, samples: samples + 1 };
    },
  };
}

/** `n` GET requests with at most `concurrency` in flight; returns the statuses. */
export async function limitedBurst(url: string, n: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await fetch(url);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return statuses;
}
