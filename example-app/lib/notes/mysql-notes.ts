import type { Pool, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { Note, NotesStore } from "./note";

interface Row extends RowDataPacket {
  id: number;
  text: string;
  created_at: Date;
}

const toNote = (row: Row): Note => ({ id: String(row.id), text: row.text, createdAt: new Date(row.created_at).toISOString() });
const isId = (id: string) => /^\d{1,9}$/.test(id);

export async function ensureMysqlNotes(pool: Pool): Promise<void> {
  await pool.query(
    "CREATE TABLE IF NOT EXISTS notes (id int AUTO_INCREMENT PRIMARY KEY, text varchar(500) NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)",
  );
}

export function mysqlNotes(pool: Pool): NotesStore {
  const byId = async (id: string) => {
    const [rows] = await pool.query<Row[]>("SELECT id, text, created_at FROM notes WHERE id = ?", [id]);
    return rows[0] ? toNote(rows[0]) : null;
  };
  return {
    async list() {
      const [rows] = await pool.query<Row[]>("SELECT id, text, created_at FROM notes ORDER BY id");
      return rows.map(toNote);
    },
    get: (id) => (isId(id) ? byId(id) : Promise.resolve(null)),
    async create(text) {
      const [result] = await pool.query<ResultSetHeader>("INSERT INTO notes (text) VALUES (?)", [text]);
      return (await byId(String(result.insertId)))!;
    },
    async update(id, text) {
      if (!isId(id)) return null;
      const [result] = await pool.query<ResultSetHeader>("UPDATE notes SET text = ? WHERE id = ?", [text, id]);
      return result.affectedRows > 0 ? byId(id) : null;
    },
    async remove(id) {
      if (!isId(id)) return false;
      const [result] = await pool.query<ResultSetHeader>("DELETE FROM notes WHERE id = ?", [id]);
      return result.affectedRows > 0;
    },
  };
}
