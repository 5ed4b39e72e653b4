// Strategy c: the hand-written globalThis singleton (Pages Router).
import type { NextApiRequest, NextApiResponse } from "next";
import { globalSingleton } from "../../../lib/global-singleton";

const strategy = globalSingleton("c");
import { answerPages } from "../../../lib/respond";
import { isDriver } from "../../../lib/settings";

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  const { driver } = req.query;
  if (!isDriver(driver)) return res.status(404).json({ error: "unknown_driver" });
  return answerPages(res, strategy[driver]);
}
