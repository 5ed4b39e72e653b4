// Strategy a: a new client per request.
import type { NextApiRequest, NextApiResponse } from "next";
import { perRequest as strategy } from "../../../lib/per-request";
import { answerPages } from "../../../lib/respond";
import { isDriver } from "../../../lib/settings";

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { driver } = req.query;
  if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
  return answerPages(res, strategy[driver]);
}
