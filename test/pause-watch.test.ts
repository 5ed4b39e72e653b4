/**
 * The pause watch behind thaw safety: a gap of PAUSE_MS or more between two
 * looks at the clock is a pause, seen by whichever look comes first after it
 * (the request path can come before the late tick), told once; a busy but
 * running loop is not a pause; no tick runs without a listener.
 */
import { describe, expect, it } from "vitest";
import { PAUSE_MS, PauseWatch, TICK_MS } from "../src/thaw/pause-watch.js";

/** Stops this thread as a freeze would, without letting the event loop run. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("PauseWatch", () => {
  it("a look right after a freeze sees it before the late tick runs, and tells each listener once", () => {
    const watch = new PauseWatch();
    const seen: number[] = [];
    const stop = watch.subscribe(({ pausedMs }) => seen.push(pausedMs));
    try {
      freeze(PAUSE_MS + 200);
      watch.check();
      watch.check();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeGreaterThanOrEqual(PAUSE_MS + 200);
    } finally {
      stop();
    }
  });

  it("the tick alone notices a freeze when no request comes", async () => {
    const watch = new PauseWatch();
    const seen: number[] = [];
    const stop = watch.subscribe(({ pausedMs }) => seen.push(pausedMs));
    try {
      freeze(PAUSE_MS + 200);
      await sleep(TICK_MS * 2);
      expect(seen).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it("a running loop, even a busy one, is no pause", async () => {
    const watch = new PauseWatch();
    const seen: number[] = [];
    const stop = watch.subscribe(({ pausedMs }) => seen.push(pausedMs));
    try {
      for (let i = 0; i < 6; i++) {
        freeze(PAUSE_MS / 4);
        await sleep(TICK_MS);
      }
      watch.check();
      expect(seen).toEqual([]);
    } finally {
      stop();
    }
  });

  it("after the last unsubscribe nothing ticks, and a later subscriber does not inherit the gap", () => {
    const watch = new PauseWatch();
    const first: number[] = [];
    watch.subscribe(() => first.push(1))();
    freeze(PAUSE_MS + 100);
    watch.check();
    expect(first).toEqual([]);
    const later: number[] = [];
    const stop = watch.subscribe(() => later.push(1));
    watch.check();
    stop();
    expect(later).toEqual([]);
  });

  it("one listener that throws does not keep the others from dropping their connections", () => {
    const watch = new PauseWatch();
    const seen: string[] = [];
    const stops = [
      watch.subscribe(() => {
        throw new Error("broken");
      }),
      watch.subscribe(() => seen.push("second")),
    ];
    try {
      freeze(PAUSE_MS + 100);
      watch.check();
      expect(seen).toEqual(["second"]);
    } finally {
      for (const stop of stops) stop();
    }
  });
});
