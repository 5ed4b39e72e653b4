import type { Helper } from "./classify.js";

/**
 * The hand-written `(req, res, next)` middleware becomes the createDatabase()
 * handle under the same name and export, so `handler.use(database)` and every
 * `req.db` / `req.dbClient` read stay as they are.
 */
export function middlewareDeclaration(middleware: Helper | undefined, name: string, definition: string): string {
  if (middleware?.exportAs === "named") return `export const ${name} = ${definition};`;
  const decl = `const ${name} = ${definition};`;
  // An anonymous default export is replaced where it stood; a named one is re-exported here.
  if (middleware?.exportAs === "default" && middleware.name) return `${decl}\n\nexport default ${name};`;
  if (middleware?.exportAs === "module.exports" && middleware.name) return `${decl}\n\nmodule.exports = ${name};`;
  return decl;
}
