/** Rejects with this when work outlives its time limit. */
export class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(what: string, ms: number, detail = "") {
    super(`${what} timed out after ${ms} ms${detail}`);
    this.name = "TimeoutError";
  }
}

/** Rejects with this when the work was given up by its owner (`close()`). */
export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what} was abandoned: the database is being closed`);
    this.name = "AbortedError";
  }
}

export interface DeadlineOptions<T> {
  /** Work that finishes after the deadline is handed here (to close a pool nobody waits for any more). */
  onLate?: (value: T) => void;
  /** Runs when the deadline passes: tell the work to stop (abort its sockets). */
  onTimeout?: () => void;
  /** Gives up at once when aborted. */
  signal?: AbortSignal;
  /** Appended to the timeout message: what the work was last seen doing. */
  detail?: () => string;
}

/**
 * Races `work` against a timer (and an abort signal). The late failure of work
 * that lost the race is swallowed, since nobody is listening for it any more.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, options: DeadlineOptions<T> = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      reject(err);
    };
    const onAbort = () => giveUp(new AbortedError(what));
    const timer = setTimeout(() => {
      giveUp(new TimeoutError(what, ms, options.detail?.() ?? ""));
      options.onTimeout?.();
    }, ms);
    // A pending deadline must not keep a script or test runner alive.
    timer.unref?.();
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        if (settled) return void options.onLate?.(value);
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err) => giveUp(err),
    );
  });
}
