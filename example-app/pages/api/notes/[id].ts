// Pages Router, next-connect v1, one note: GET, PUT, DELETE.
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
  recordUse("pages/api/notes/[id] (next-connect v1)");
  return next();
});

const idOf = (req: Req) => String(req.query.id);

router.get(async (req, res) => {
  const note = await notesOf(driver, req.db).get(idOf(req));
  return note ? res.json(note) : res.status(404).json({ error: "not_found" });
});

router.put(async (req, res) => {
  const text = noteText(req.body);
  if (text === null) return res.status(400).json({ error: "text_required" });
  const note = await notesOf(driver, req.db).update(idOf(req), text);
  return note ? res.json(note) : res.status(404).json({ error: "not_found" });
});

router.delete(async (req, res) => {
  const removed = await notesOf(driver, req.db).remove(idOf(req));
  return removed ? res.status(204).end() : res.status(404).json({ error: "not_found" });
});

export default router.handler();
