import type { NextApiResponse } from "next";

/** The same answer from every Pages route; a failure is logged without details that could hold a secret. */
export async function answerPages(res: NextApiResponse, run: () => Promise<unknown>): Promise<void> {
  try {
    res.status(200).json({ row: await run() });
  } catch (err) {
    console.error(`[bench] query failed: ${(err as { code?: string }).code ?? (err as Error).name}`);
    res.status(500).json({ error: "query_failed" });
  }
}

export async function answerApp(run: () => Promise<unknown>): Promise<Response> {
  try {
    return Response.json({ row: await run() });
  } catch (err) {
    console.error(`[bench] query failed: ${(err as { code?: string }).code ?? (err as Error).name}`);
    return Response.json({ error: "query_failed" }, { status: 500 });
  }
}
