/**
 * Notices that this process did not run for a while: an instance frozen
 * between invocations (AWS Lambda, Vercel, Netlify, Cloud Run without CPU),
 * a container stopped with SIGSTOP, a suspended VM or laptop.
 *
 * A frozen process runs no timers, so its pools' idle timeouts never fire;
 * meanwhile the database, a pooler or a NAT may have ended the idle
 * connections, silently or not. Pools subscribe here and drop their idle
 * connections when a pause is seen, before anything can use them.
 *
 * A pause is a gap of at least `PAUSE_MS` between two observations of the
 * clock. Observations are a tick (unref'd, every `TICK_MS`, only while a pool
 * is open) and `check()`, which the request path calls before it uses a pool:
 * a platform thaws an instance to hand it a request, which is read before the
 * first late tick runs, so the request has to look itself. `check()` reads one
 * clock, the monotonic one (a stopped or frozen process); it costs a clock read
 * per request (25-100 ns). The tick also reads the wall clock, for a suspended
 * machine, where the monotonic clock stands still.
 *
 * An event loop blocked for that long by the app's own code counts as a pause
 * too; the cost is a reconnect of the idle connections, which is small next
 * to a second-long stall.
 */
export const TICK_MS = 250;
export const PAUSE_MS = 1000;

export interface Pause {
  /** How long the process did not run, in ms (at least `PAUSE_MS`). */
  readonly pausedMs: number;
}

export type PauseListener = (pause: Pause) => void;

/** One per process, kept in the process state (`registry.ts`): every bundle's copy of the package shares one tick. */
export class PauseWatch {
  private readonly listeners = new Set<PauseListener>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastMonotonic = 0;
  private lastWall = 0;
  /** When the last pause was seen (monotonic ms), or -Infinity. */
  private lastPauseAt = Number.NEGATIVE_INFINITY;

  /** Calls `listener` on every pause from now on; returns the unsubscribe. */
  subscribe(listener: PauseListener): () => void {
    if (this.listeners.size === 0) this.start();
    this.listeners.add(listener);
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.stop();
    };
  }

  /** One look at the monotonic clock; tells the listeners, synchronously, if the process was paused since the last look. */
  check(): void {
    if (this.timer === null) return;
    const monotonic = performance.now();
    const gap = monotonic - this.lastMonotonic;
    this.lastMonotonic = monotonic;
    if (gap >= PAUSE_MS) this.paused(gap);
  }

  /** The tick: the monotonic clock as `check()`, and the wall clock, which moves on while a suspended machine's monotonic clock stands still. */
  private tick(): void {
    const monotonic = performance.now();
    const wall = Date.now();
    const gap = Math.max(monotonic - this.lastMonotonic, wall - this.lastWall);
    this.lastMonotonic = monotonic;
    this.lastWall = wall;
    if (gap >= PAUSE_MS) this.paused(gap);
  }

  /**
   * True within `ms` after a pause was seen: what a driver's monitor reports
   * then may come from a connection that died during the freeze, not from
   * the database.
   */
  pausedWithin(ms: number): boolean {
    return performance.now() - this.lastPauseAt < ms;
  }

  private paused(gap: number): void {
    this.lastPauseAt = performance.now();
    const pause: Pause = { pausedMs: Math.round(gap) };
    for (const listener of [...this.listeners]) {
      try {
        listener(pause);
      } catch {
        // One pool's failure to drop its connections must not stop the others'.
      }
    }
  }

  private start(): void {
    this.lastMonotonic = performance.now();
    this.lastWall = Date.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    // Never what keeps a process alive.
    this.timer.unref?.();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

