import { join } from "node:path";
import { projectRoot, type Build } from "./build.js";
import { startChildApp } from "./child-app.js";
import { sleep } from "./wait.js";

/** One process of the fleet (test/fixtures/fleet-app.mjs). */
export interface FleetInstance {
  index: number;
  url: string;
  report(): Promise<InstanceReport>;
  close(mode: string): Promise<void>;
  /** 1 when the process died by itself, else 0. */
  crashes(): number;
  stop(): Promise<void>;
}

export interface InstanceReport {
  pid: number;
  unhandledRejections: number;
  stats: Record<string, { state: string; connects: number; failures: number; saturated: number; pool: { open: number | null } | null }>;
  /** mode → folded log line → { level, count, first } */
  log: Record<string, Record<string, { level: string; count: number; first: string }>>;
}

export interface FleetOptions {
  build: Build;
  /** mode → database URL; "plain" is the hand-written-pool control. */
  targets: Record<string, string>;
  app: string;
  max: number;
  querySeconds: number;
}

export async function startInstance(index: number, o: FleetOptions): Promise<FleetInstance> {
  const app = await startChildApp(
    join(projectRoot, "test", "fixtures", "fleet-app.mjs"),
    {
      NDC_INDEX: o.build.esm("index"),
      NDC_PG: o.build.esm("pg"),
      NDC_TARGETS: JSON.stringify(o.targets),
      NDC_APP: o.app,
      NDC_MAX: String(o.max),
      NDC_QUERY_S: String(o.querySeconds),
    },
    30_000,
  );
  const { url } = app;
  return {
    index,
    url,
    report: async () => (await (await fetch(`${url}/report`)).json()) as InstanceReport,
    close: async (mode) => void (await (await fetch(`${url}/close/${mode}`)).arrayBuffer()),
    crashes: () => (app.crashed() ? 1 : 0),
    stop: () => app.stop(),
  };
}

/** What the load saw in one window. */
export interface WindowCounts {
  /** status (or "timeout"/"error") → count */
  statuses: Record<string, number>;
  /** The `reason` of 503 bodies, the `code` of 500 bodies. */
  reasons: Record<string, number>;
  /** 503s that carried Retry-After. */
  retryAfter: number;
  maxLatencyMs: number;
}

/**
 * Closed-loop load: `perInstance` clients per joined instance, each sending
 * its next request when the last one is answered. A client that got anything
 * but 200 waits `backoffMs` first (a client that retries at once would turn a
 * fast 503 into a flood no real user makes). Counts go to the open window.
 */
export class FleetLoad {
  private running = true;
  private readonly loops: Array<Promise<void>> = [];
  private counts: WindowCounts = emptyCounts();
  /** The status of each instance's first answer, by index: its connect (and budget check) came with it. */
  readonly firstStatus = new Map<number, string>();
  /** How long each instance took to give its first answer, by index. */
  readonly firstAnswerMs = new Map<number, number>();

  constructor(
    private readonly mode: string,
    private readonly perInstance: number,
    private readonly backoffMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** Starts the instance's clients; resolves with its first answer. */
  join(instance: FleetInstance): Promise<void> {
    let answered!: () => void;
    const first = new Promise<void>((resolve) => (answered = resolve));
    const joined = Date.now();
    const onAnswer = (status: string) => {
      if (!this.firstStatus.has(instance.index)) {
        this.firstStatus.set(instance.index, status);
        this.firstAnswerMs.set(instance.index, Date.now() - joined);
      }
      answered();
    };
    for (let i = 0; i < this.perInstance; i++) this.loops.push(this.loop(`${instance.url}/q/${this.mode}`, onAnswer));
    return first;
  }

  /** Counts since the last call, and a fresh window. */
  take(): WindowCounts {
    const c = this.counts;
    this.counts = emptyCounts();
    return c;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(url: string, answered: (status: string) => void): Promise<void> {
    while (this.running) {
      const started = Date.now();
      let status: string;
      let reason: string | undefined;
      let retryAfter = false;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
        const body = (await res.json().catch(() => ({}))) as { reason?: string; code?: string };
        status = String(res.status);
        reason = res.status === 503 ? body.reason : res.status === 500 ? (body.code ?? "no code") : undefined;
        retryAfter = res.headers.get("retry-after") !== null;
      } catch (err) {
        status = (err as Error).name === "TimeoutError" ? "timeout" : "error";
        // fetch() says "fetch failed"; the socket's own code is in its cause.
        if (status === "error") reason = String((err as { cause?: { code?: unknown } }).cause?.code ?? (err as Error).message);
      }
      answered(status);
      const c = this.counts;
      c.statuses[status] = (c.statuses[status] ?? 0) + 1;
      if (reason !== undefined) c.reasons[`${status} ${reason}`] = (c.reasons[`${status} ${reason}`] ?? 0) + 1;
      if (status === "503" && retryAfter) c.retryAfter++;
      c.maxLatencyMs = Math.max(c.maxLatencyMs, Date.now() - started);
      if (status !== "200" && this.running) await sleep(this.backoffMs);
    }
  }
}

function emptyCounts(): WindowCounts {
  return { statuses: {}, reasons: {}, retryAfter: 0, maxLatencyMs: 0 };
}
