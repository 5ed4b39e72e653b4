/** Polls `read` until `accept` holds or the deadline passes; returns the last value. */
export async function waitFor<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
  }
  return value;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Two turns of the event loop: callbacks already queued (a socket's 'close'
 * after its 'error', a rejection Node reports at the end of a turn) have run.
 * For "nothing escaped" checks made after the events that end a fault, never
 * instead of waiting for those events.
 */
export const queuedCallbacksRun = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));
