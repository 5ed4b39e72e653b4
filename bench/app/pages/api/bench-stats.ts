// Read by the bench runner: the driver-level connect counts kept by
// preload/count-connects.mjs, and this process's memory.
import type { NextApiRequest, NextApiResponse } from "next";

export default function handler(_req: NextApiRequest, res: NextApiResponse) {
  const { rss, heapUsed } = process.memoryUsage();
  const connects = (globalThis as { __benchDriverConnects?: unknown }).__benchDriverConnects ?? null;
  res.status(200).json({ pid: process.pid, rss, heapUsed, connects });
}
