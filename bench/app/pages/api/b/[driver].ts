// Strategy b: a module-scope pool.
import type { NextApiRequest, NextApiResponse } from "next";
import { modulePool as strategy } from "../../../lib/module-pool";
import { answerPages } from "../../../lib/respond";
import { isDriver } from "../../../lib/settings";

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { driver } = req.query;
  if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
  return answerPages(res, strategy[driver]);
}
