import { expect } from "vitest";
import { countStatuses } from "./figures.js";
import type { LoopAnswer } from "./request-loops.js";

/**
 * What the requests around a shutdown signal got, told apart where they
 * reached the server (`x-arrived-at`, the server's clock) rather than where
 * they were sent: in flight at the signal (arrived before it, answered after
 * it), arrived after it (or, without an answer, sent after it), and cut
 * (sent before it, no answer at all).
 */
export function analyseDrain(answers: LoopAnswer[], signalAt: number) {
  const inFlight = answers.filter((a) => a.arrivedAt !== null && a.arrivedAt < signalAt && a.startedAt + a.ms >= signalAt);
  const arrivedAfter = answers.filter((a) => (a.arrivedAt !== null ? a.arrivedAt >= signalAt : a.startedAt >= signalAt));
  const cut = answers.filter((a) => a.arrivedAt === null && a.startedAt < signalAt && a.startedAt + a.ms >= signalAt);
  const okAfter = answers.filter((a) => a.status === 200 && (a.arrivedAt ?? 0) >= signalAt);
  const refusedProperly = arrivedAfter.filter(
    (a) => a.status === "error" || (a.status === 503 && a.connection === "close" && Number(a.retryAfter) >= 1),
  );
  // The longest a request in flight at the signal still had to run.
  const inFlightLeftMs = Math.max(0, ...inFlight.map((a) => a.startedAt + a.ms - signalAt));
  return { inFlight, arrivedAfter, cut, okAfter, refusedProperly, inFlightLeftMs };
}

/**
 * A drain that drains, whoever ran it: every request in flight at the signal
 * finished with 200, none was cut, every one that arrived after it was
 * refused properly (503 + Connection: close + Retry-After, or a closed
 * socket) and none served, the pools were open before and closed after, and
 * the process exited within the in-flight time plus `marginMs`.
 */
export function expectDrained(
  a: ReturnType<typeof analyseDrain>,
  r: { before: number; after: number; exitMs: number },
  marginMs: number,
): void {
  expect(a.inFlight.length).toBeGreaterThan(0);
  expect(countStatuses(a.inFlight.map((x) => x.status))).toEqual({ "200": a.inFlight.length });
  expect(a.cut).toEqual([]);
  expect(a.arrivedAfter.length).toBeGreaterThan(0);
  expect(a.refusedProperly).toEqual(a.arrivedAfter);
  expect(a.okAfter).toEqual([]);
  expect(r.before).toBeGreaterThan(0);
  expect(r.after).toBe(0);
  expect(r.exitMs).toBeLessThanOrEqual(a.inFlightLeftMs + marginMs);
}
