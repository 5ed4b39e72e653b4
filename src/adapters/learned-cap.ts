import type { SafeLogger } from "../logger.js";

/** The first wait before a capped pool tries one connection more. */
const FIRST_PROBE_MS = 1_000;
/** The longest wait between two such tries, reached by doubling after each refusal. */
const LAST_PROBE_MS = 10_000;

/**
 * When the server refuses a new connection because it (or the role, or the
 * account) is at its connection limit, the pool's own connections still work.
 * A plain pool keeps trying to open more, and fails a request each time; this
 * lowers the pool's maximum to what it holds, so requests queue for the
 * connections it has (within `acquireTimeoutMs`).
 *
 * What it holds at the moment of a refusal can be less than the server would
 * give it: connects racing each other are refused together, and another
 * client's connections may be on their way out. So while the pool is capped
 * and a checkout would queue, it tries one connection more from time to time
 * (a probe): after 1 s, doubling after each refusal up to 10 s, and again
 * after 1 s when the server took it. Never a storm of connects, and the pool
 * grows back to its configured maximum as the server makes room.
 */
export class LearnedCap {
  /** The maximum the pool was configured with, while it is capped; null when it is not. */
  private configured: number | null = null;
  private probeAfterMs = FIRST_PROBE_MS;
  private nextProbeAt = 0;
  private probing = false;

  constructor(
    private readonly read: () => number,
    private readonly write: (max: number) => void,
    private readonly log: SafeLogger,
    /** The driver's test for a refusal at a connection limit. */
    private readonly isServerLimit: (err: unknown) => boolean,
  ) {}

  /**
   * Caps the pool at `open` connections, counting only those that completed
   * their startup (connects still in flight are refused too, when the server
   * is full); false when it holds none (nothing to queue for).
   */
  capAt(open: number, reason: string): boolean {
    if (open < 1) return false;
    if (this.configured === null) {
      this.configured = this.read();
      this.probeAfterMs = FIRST_PROBE_MS;
      this.log.warn(
        `the server is at its connection limit (${reason}); this pool waits for its ${open} open connection(s) ` +
          `instead of opening more, and tries one more now and then (after ${FIRST_PROBE_MS / 1000} s, up to every ${LAST_PROBE_MS / 1000} s)`,
      );
    }
    this.nextProbeAt = Date.now() + this.probeAfterMs;
    this.write(Math.min(open, this.configured));
    return true;
  }

  /**
   * For a checkout that would queue at the cap: when a probe is due, runs
   * `open` (the pool's own checkout, which must start its connect at once)
   * with the cap one higher, so that this checkout opens a connection, and
   * returns true; the caller reports the outcome with `probed()`. The cap is
   * lowered again as soon as the connect has started: the pool must not open
   * another for its queue if this one is refused (it counts as open until
   * then), and `admit()` raises it if the server takes it.
   */
  probe(open: () => void): boolean {
    if (this.configured === null || this.probing || Date.now() < this.nextProbeAt) return false;
    const max = this.read();
    if (max >= this.configured) return false;
    this.probing = true;
    this.write(max + 1);
    try {
      open();
    } finally {
      if (this.read() === max + 1) this.write(max);
    }
    return true;
  }

  /**
   * The probe's connect is over (`err` is what it failed with): taken, the
   * next may come after the first wait; refused at the limit, the wait
   * doubles (up to 10 s); failed otherwise, the wait stays.
   */
  probed(err: unknown, open: number): void {
    if (!this.probing || this.configured === null) return;
    this.probing = false;
    if (!err) {
      this.probeAfterMs = FIRST_PROBE_MS;
      this.admit(open);
    } else if (this.isServerLimit(err)) {
      this.probeAfterMs = Math.min(this.probeAfterMs * 2, LAST_PROBE_MS);
    }
    this.nextProbeAt = Date.now() + this.probeAfterMs;
    if (this.read() >= this.configured) this.restore();
  }

  /**
   * A connection that was already connecting when the cap was set got in: the
   * server had room for it, so the cap grows to the `open` connections (never
   * past the configured maximum).
   */
  admit(open: number): void {
    if (this.configured !== null && open > this.read()) this.write(Math.min(open, this.configured));
  }

  /** Back to the configured maximum (the server made room, or the pool closes). */
  restore(): void {
    if (this.configured === null) return;
    this.write(this.configured);
    this.configured = null;
    this.probing = false;
  }
}
