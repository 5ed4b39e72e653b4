import { get, type Answer } from "./router-styles.js";

export interface LoopAnswer extends Answer {
  /** Which target the loop was sending to. */
  label: string;
}

/**
 * Steady traffic with per-request timing: `perTarget` clients for each
 * target, each sending its next request as soon as the previous one ends,
 * until `stop()` is called. Every answer keeps when its request started
 * (client clock), so a scenario can tell the requests that were in flight at
 * an event from those that started after it.
 */
export function requestLoops(targets: Array<{ label: string; url: string }>, perTarget: number, timeoutMs = 20_000) {
  const answers: LoopAnswer[] = [];
  let running = true;
  const loops = targets.flatMap(({ label, url }) =>
    Array.from({ length: perTarget }, async () => {
      while (running) {
        const answer = await get(url, timeoutMs);
        answers.push({ ...answer, label });
        // A refused socket answers at once: do not spin.
        if (answer.status === "error") await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return {
    answers,
    /** Stops sending; resolves once every request still running has ended. */
    async stop(): Promise<LoopAnswer[]> {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
