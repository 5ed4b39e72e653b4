// Pages Router, migrated from next-connect v0. Before the migration this app
// had the usual hand-written middleware:
//
//   let cached;  // a promise of a connected pool, cached at module scope
//   export default async function database(req, res, next) {
//     cached ??= connectPool();         // a rejected promise stayed cached
//     req.dbClient = await cached;
//     req.db = req.dbClient;            // (for MongoDB: dbClient.db(name))
//     return next();
//   }
//
// The migration replaces that file with `nextConnect().use(database)` from
// next-db-connect. The handlers below are unchanged: same req.db, same
// req.dbClient. What changes underneath: one pool for every bundle, no
// rejected promise kept forever, and a 503 with Retry-After during an outage.
import nextConnect from "next-connect-v0";
import type { NextApiRequest, NextApiResponse } from "next";
import type { DatabaseRequest } from "next-db-connect";
import { database, driver } from "@/lib/database";
import { noteText, notesOf } from "@/lib/notes";
import { recordUse } from "@/lib/usage";

type Req = NextApiRequest & DatabaseRequest<typeof database>;

const handler = nextConnect<Req, NextApiResponse>({
  onError(err, _req, res) {
    console.error("[example] /api/legacy/notes failed:", (err as Error).message);
    res.status(500).json({ error: "internal_error" });
  },
});

handler.use(database);

handler.get(async (req, res) => {
  recordUse("pages/api/legacy/notes (next-connect v0)");
  const notes = await notesOf(driver, req.db).list();
  // The old handlers also reached for the client itself; it is the same pool object every time.
  res.json({ notes, client: req.dbClient ? "shared" : "missing" });
});

handler.post(async (req, res) => {
  recordUse("pages/api/legacy/notes (next-connect v0)");
  const text = noteText(req.body);
  if (text === null) return res.status(400).json({ error: "text_required" });
  res.status(201).json(await notesOf(driver, req.db).create(text));
});

export default handler;
