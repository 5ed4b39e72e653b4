import { enclosingFunction } from "../ast.js";
import type { Classified } from "./classify.js";
import type { AppContext } from "./database-module.js";

/** How the module kept its client: the pattern name for the report. */
export function describeSetup(c: Classified): string {
  const kind = c.creations[0]!.driver === "mongodb" ? "MongoClient" : "pool";
  if (c.usesNodeEnv && c.usesGlobal) return `globalThis ${kind} singleton guarded by NODE_ENV (one ${kind} per Next.js bundle in production)`;
  if (c.usesGlobal) return `${kind} cached on globalThis`;
  if (enclosingFunction(c.creations[0]!.node)) return `${kind} created on first use and cached in module variables`;
  return `module-scope ${kind} (a new one at every evaluation: each hot reload, each Next.js bundle)`;
}

/**
 * Prisma: consumers read `prisma.user.findMany()` synchronously from the
 * exported client, which createDatabase() only hands out after an awaited
 * connect. No rewrite keeps those calls unchanged without a proxy, so the
 * module is reported with the README's Prisma 7 recipe to move to.
 */
export function prismaLeft(c: Classified, ctx: AppContext, rel: string): null {
  const line = c.creations.find((x) => x.driver === "prisma")!.node.getStartLineNumber();
  ctx.report.found(rel, c.usesNodeEnv ? "PrismaClient globalThis singleton guarded by NODE_ENV" : "module-scope PrismaClient", line);
  ctx.report.left(
    rel,
    line,
    "PrismaClient",
    "callers use the client synchronously (prisma.model.findMany()), which createDatabase() hands out only after an awaited connect; with Prisma 7's pg driver adapter, define createDatabase(pg(config, { db: (pool) => new PrismaClient({ adapter: new PrismaPg(pool) }) })) and read req.db or (await database.connect()).db (the README's Prisma 7 recipe)",
  );
  return null;
}
