import type { Db } from "mongodb";
import type { Pool as MysqlPool } from "mysql2/promise";
import type { Pool as PgPool } from "pg";
import type { Driver } from "../driver";
import { ensureMongoNotes, mongoNotes } from "./mongo-notes";
import { ensureMysqlNotes, mysqlNotes } from "./mysql-notes";
import type { NotesStore } from "./note";
import { ensurePgNotes, pgNotes } from "./pg-notes";

export { noteText, type Note, type NotesStore } from "./note";

/** The notes of `db` (what `req.db` / `ctx.db` / `connect().db` is for the driver). */
export function notesOf(driver: Driver, db: unknown): NotesStore {
  switch (driver) {
    case "pg":
      return pgNotes(db as PgPool);
    case "mysql2":
      return mysqlNotes(db as MysqlPool);
    case "mongodb":
      return mongoNotes(db as Db);
  }
}

/** Creates the notes table or collection if it is missing (idempotent). */
export function ensureNotesSchema(driver: Driver, db: unknown): Promise<void> {
  switch (driver) {
    case "pg":
      return ensurePgNotes(db as PgPool);
    case "mysql2":
      return ensureMysqlNotes(db as MysqlPool);
    case "mongodb":
      return ensureMongoNotes(db as Db);
  }
}
