/** Rejects with this when work outlives its time limit. */
export class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Races `work` against a timer. Work that finishes after the deadline is handed
 * to `onLate` (to close a pool nobody is waiting for any more); its late
 * failure is swallowed, since nobody is listening for it.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new TimeoutError(what, ms));
    }, ms);
    // A pending deadline must not keep a script or test runner alive.
    timer.unref?.();
    work.then(
      (value) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(value);
        } else onLate?.(value);
      },
      (err) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(err);
        }
      },
    );
  });
}
