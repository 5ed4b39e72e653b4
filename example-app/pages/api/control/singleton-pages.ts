// CONTROL ONLY, exists to show the problem (see control/README.md): the
// NODE_ENV-guarded singleton used from the Pages Router bundle.
import type { NextApiRequest, NextApiResponse } from "next";
import { pool } from "@/control/next-style-singleton";
import { controlQuery } from "@/control/respond";

export default async function handler(_req: NextApiRequest, res: NextApiResponse) {
  const { status, body } = await controlQuery(pool, { bundle: "pages" });
  res.status(status).json(body);
}
