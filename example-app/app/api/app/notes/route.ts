// App Router route handler wrapped with database.route(): `db` arrives in the
// context; an unreachable database becomes a 503 with Retry-After.
import { database, driver } from "@/lib/database";
import { noteText, notesOf } from "@/lib/notes";
import { recordUse } from "@/lib/usage";

export const GET = database.route(async (_req, { db }) => {
  recordUse("app/api/app/notes (route handler)");
  return Response.json(await notesOf(driver, db).list());
});

export const POST = database.route(async (req, { db }) => {
  recordUse("app/api/app/notes (route handler)");
  const text = noteText(await req.json().catch(() => null));
  if (text === null) return Response.json({ error: "text_required" }, { status: 400 });
  return Response.json(await notesOf(driver, db).create(text), { status: 201 });
});
