import type { Pool } from "pg";
import type { Note, NotesStore } from "./note";

interface Row {
  id: number;
  text: string;
  created_at: Date;
}

const toNote = (row: Row): Note => ({ id: String(row.id), text: row.text, createdAt: row.created_at.toISOString() });
// Ids are serials: anything else cannot match, and must not reach the query as a cast error.
const isId = (id: string) => /^\d{1,9}$/.test(id);

export async function ensurePgNotes(pool: Pool): Promise<void> {
  await pool.query(
    "CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
  );
}

export function pgNotes(pool: Pool): NotesStore {
  return {
    async list() {
      const { rows } = await pool.query<Row>("SELECT id, text, created_at FROM notes ORDER BY id");
      return rows.map(toNote);
    },
    async get(id) {
      if (!isId(id)) return null;
      const { rows } = await pool.query<Row>("SELECT id, text, created_at FROM notes WHERE id = $1", [id]);
      return rows[0] ? toNote(rows[0]) : null;
    },
    async create(text) {
      const { rows } = await pool.query<Row>("INSERT INTO notes (text) VALUES ($1) RETURNING id, text, created_at", [text]);
      return toNote(rows[0]!);
    },
    async update(id, text) {
      if (!isId(id)) return null;
      const { rows } = await pool.query<Row>("UPDATE notes SET text = $2 WHERE id = $1 RETURNING id, text, created_at", [id, text]);
      return rows[0] ? toNote(rows[0]) : null;
    },
    async remove(id) {
      if (!isId(id)) return false;
      const { rowCount } = await pool.query("DELETE FROM notes WHERE id = $1", [id]);
      return (rowCount ?? 0) > 0;
    },
  };
}
