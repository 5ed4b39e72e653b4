import { randomUUID } from "node:crypto";
import type { Db } from "mongodb";
import type { Note, NotesStore } from "./note";

// String ids (UUIDs) instead of ObjectIds: the same URLs work for every driver
// and this file needs nothing from the driver at runtime.
interface NoteDocument {
  _id: string;
  text: string;
  createdAt: Date;
}

const toNote = (doc: NoteDocument): Note => ({ id: doc._id, text: doc.text, createdAt: doc.createdAt.toISOString() });

export async function ensureMongoNotes(db: Db): Promise<void> {
  await db.collection<NoteDocument>("notes").createIndex({ createdAt: 1 });
}

export function mongoNotes(db: Db): NotesStore {
  const notes = db.collection<NoteDocument>("notes");
  return {
    async list() {
      return (await notes.find().sort({ createdAt: 1, _id: 1 }).toArray()).map(toNote);
    },
    async get(id) {
      const doc = await notes.findOne({ _id: id });
      return doc ? toNote(doc) : null;
    },
    async create(text) {
      const doc: NoteDocument = { _id: randomUUID(), text, createdAt: new Date() };
      await notes.insertOne(doc);
      return toNote(doc);
    },
    async update(id, text) {
      const result = await notes.findOneAndUpdate({ _id: id }, { $set: { text } }, { returnDocument: "after" });
      return result ? toNote(result) : null;
    },
    async remove(id) {
      return (await notes.deleteOne({ _id: id })).deletedCount > 0;
    },
  };
}
