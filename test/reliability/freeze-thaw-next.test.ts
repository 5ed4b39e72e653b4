/**
 * Scenario 13 under a real `next build` + `next start` (the freeze that
 * fails a hand-written pool: PostgreSQL sessions dropped silently while the
 * process is frozen). One Next.js app serves the package through a Pages
 * Router API route with next-connect and an App Router route with
 * `database.route()`, and the control (a hand-written `globalThis` pool) on a
 * third route. Both pools are filled, the process is stopped with SIGSTOP,
 * the TCP proxy forgets every connection (no FIN), and after SIGCONT 50
 * requests go to the package's routes at once and 50 to the control's.
 * Ours: 50 × 200; the control: at least one 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countStatuses, recordFigures } from "../support/figures.js";
import { buildNextFixture, nextStart } from "../support/next-app.js";
import { closeAdmin, pgConnectionCount, postgresUrl, uniqueName, withUrl } from "../support/postgres.js";
import { proxyInFrontOf, type TcpProxy } from "../support/tcp-proxy.js";
import { sleep, waitFor } from "../support/wait.js";

const COMMAND = "npx vitest run test/reliability/freeze-thaw-next.test.ts";
const FREEZE_MS = 2500;
const BURST = 50;

async function statuses(urls: string[]): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return 0;
      }
    }),
  );
}

describe("frozen and thawed under next start: pg, sessions dropped silently", () => {
  let app: Awaited<ReturnType<typeof buildNextFixture>>;
  let proxy: TcpProxy;
  beforeAll(async () => {
    app = await buildNextFixture("next-thaw-app");
    proxy = await proxyInFrontOf(await postgresUrl(), 5432);
  }, 300_000);
  afterAll(async () => {
    await proxy?.down();
    await app?.remove();
    await closeAdmin();
  });

  it(`Pages (next-connect) and App (route()) answer the ${BURST} requests after the thaw with 200; the hand-written pool fails`, async () => {
    const ours = uniqueName("ndc_thaw_next");
    const control = uniqueName("ndc_thaw_next_ctl");
    const server = await nextStart(app.dir, {
      NDC_PG_URL: withUrl(await postgresUrl(), { port: proxy.port }),
      NDC_APP: ours,
      NDC_CONTROL_APP: control,
    });
    let thawOurs: number[] = [];
    let thawControl: number[] = [];
    let warm = { ours: 0, control: 0 };
    let thawMs = 0;
    try {
      const fill = (path: string) => statuses(Array.from({ length: 10 }, () => `${server.url}${path}`));
      // Both routers load and share the package's one pool; the control fills its own.
      expect(await fill("/api/pages-q?s=0.3")).toEqual(Array(10).fill(200));
      expect(await fill("/api/app-q?s=0.3")).toEqual(Array(10).fill(200));
      expect(await fill("/api/control?s=0.3")).toEqual(Array(10).fill(200));
      warm = { ours: await pgConnectionCount(ours), control: await pgConnectionCount(control) };
      server.child.kill("SIGSTOP");
      try {
        proxy.dropSilently();
        await waitFor(async () => (await pgConnectionCount(ours)) + (await pgConnectionCount(control)), (n) => n === 0, 10_000, 100);
        await sleep(FREEZE_MS);
      } finally {
        server.child.kill("SIGCONT");
      }
      const started = performance.now();
      // Half to the Pages route, half to the App route.
      const oursUrls = Array.from({ length: BURST }, (_, i) => `${server.url}/api/${i % 2 === 0 ? "pages-q" : "app-q"}`);
      [thawOurs, thawControl] = await Promise.all([statuses(oursUrls), statuses(Array.from({ length: BURST }, () => `${server.url}/api/control`))]);
      thawMs = performance.now() - started;
    } finally {
      server.kill();
      await server.exited;
    }
    recordFigures("13-thaw-next-pg", {
      scenario: "13. Frozen and thawed under next start: sessions dropped silently (no FIN)",
      database: "PostgreSQL",
      load: `${BURST} requests at once after SIGCONT, half Pages (next-connect), half App (route()); pool max 10, ${warm.ours} warm connections`,
      faults: `SIGSTOP of next start for ${FREEZE_MS / 1000} s; a TCP proxy forgets every open connection (no FIN)`,
      requests: BURST,
      statuses: countStatuses(thawOurs),
      crashes: 0,
      unhandledRejections: 0,
      maxLatencyMs: Math.round(thawMs),
      recoveryMs: null,
      leaks: null,
      notes: `control (hand-written globalThis pool, ${warm.control} warm connections): ${thawControl.filter((s) => s === 200).length} × 200, ${thawControl.filter((s) => s === 500).length} × 500`,
      command: COMMAND,
    });
    expect(warm.ours).toBeGreaterThan(0);
    expect(thawOurs, server.output().slice(-3000)).toEqual(thawOurs.map(() => 200));
    expect(thawControl.filter((s) => s === 500).length).toBeGreaterThan(0);
  }, 120_000);
});
