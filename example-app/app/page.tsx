// A Server Component reading through `await database.connect()`: no request
// object, no router, the same pool as every API route.
import { database, driver } from "@/lib/database";
import { notesOf } from "@/lib/notes";
import { recordUse } from "@/lib/usage";

export const dynamic = "force-dynamic";

export default async function NotesPage() {
  recordUse("app/page.tsx (Server Component)");
  const { db } = await database.connect();
  const notes = await notesOf(driver, db).list();
  return (
    <>
      <h1>Notes</h1>
      <p>
        Read by a Server Component through <code>database.connect()</code> ({driver}). The same notes through
        every entry point: <a href="/api/notes">Pages Router, next-connect v1</a> ·{" "}
        <a href="/api/legacy/notes">Pages Router, next-connect v0</a> ·{" "}
        <a href="/api/app/notes">App Router route handler</a> · <a href="/api/health">health</a>
      </p>
      <ul data-testid="notes">
        {notes.map((note) => (
          <li key={note.id}>{note.text}</li>
        ))}
      </ul>
    </>
  );
}
