// Pages Router, next-connect v1: `createRouter().use(database)` puts the pool
// on req.db; the handlers never connect or handle an outage themselves.
import type { NextApiRequest, NextApiResponse } from "next";
import { createRouter } from "next-connect";
import type { DatabaseRequest } from "next-db-connect";
import { database, driver } from "@/lib/database";
import { noteText, notesOf } from "@/lib/notes";
import { recordUse } from "@/lib/usage";

type Req = NextApiRequest & DatabaseRequest<typeof database>;

const router = createRouter<Req, NextApiResponse>();
router.use(database);
router.use(async (_req, _res, next) => {
  recordUse("pages/api/notes (next-connect v1)");
  return next();
});

router.get(async (req, res) => {
  res.json(await notesOf(driver, req.db).list());
});

router.post(async (req, res) => {
  const text = noteText(req.body);
  if (text === null) return res.status(400).json({ error: "text_required" });
  res.status(201).json(await notesOf(driver, req.db).create(text));
});

export default router.handler();
