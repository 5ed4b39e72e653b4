// App Router route handler with a dynamic segment: Next 16 passes
// `params` as a Promise, and database.route() hands it on unchanged.
import { database, driver } from "@/lib/database";
import { noteText, notesOf } from "@/lib/notes";
import { recordUse } from "@/lib/usage";

type Params = { id: string };
const notFound = () => Response.json({ error: "not_found" }, { status: 404 });

export const GET = database.route<Params>(async (_req, { db, params }) => {
  recordUse("app/api/app/notes/[id] (route handler)");
  const note = await notesOf(driver, db).get((await params).id);
  return note ? Response.json(note) : notFound();
});

export const PUT = database.route<Params>(async (req, { db, params }) => {
  recordUse("app/api/app/notes/[id] (route handler)");
  const text = noteText(await req.json().catch(() => null));
  if (text === null) return Response.json({ error: "text_required" }, { status: 400 });
  const note = await notesOf(driver, db).update((await params).id, text);
  return note ? Response.json(note) : notFound();
});

export const DELETE = database.route<Params>(async (_req, { db, params }) => {
  recordUse("app/api/app/notes/[id] (route handler)");
  const removed = await notesOf(driver, db).remove((await params).id);
  return removed ? new Response(null, { status: 204 }) : notFound();
});
