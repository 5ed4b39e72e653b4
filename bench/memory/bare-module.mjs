// The reference: a module with no database at all, so the loader's own cost
// per re-evaluation (each `?v=` URL is a new module record, kept for the life
// of the process) can be told apart from what a definition or a pool adds.
export async function query() {
  return null;
}
