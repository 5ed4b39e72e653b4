export interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/** The CRUD every driver's store implements; ids are strings on the wire. */
export interface NotesStore {
  list(): Promise<Note[]>;
  get(id: string): Promise<Note | null>;
  create(text: string): Promise<Note>;
  update(id: string, text: string): Promise<Note | null>;
  remove(id: string): Promise<boolean>;
}

export const MAX_NOTE_LENGTH = 500;

/** The note text from a request body, or null when it is missing or too long. */
export function noteText(body: unknown): string | null {
  const text = (body as { text?: unknown } | null)?.text;
  if (typeof text !== "string") return null;
  const trimmed = text.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NOTE_LENGTH ? trimmed : null;
}
