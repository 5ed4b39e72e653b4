import { execFile } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "./build.js";

const run = promisify(execFile);

/**
 * `prisma generate` for the schema at `<dir>/prisma/schema.prisma`, offline.
 *
 * Every Prisma CLI command first downloads its schema engine (unreachable
 * here), though `generate` never runs it: PRISMA_SCHEMA_ENGINE_BINARY, Prisma's
 * own setting for custom engines, points at a stub that fails if it is ever
 * run. `replace` fills placeholders in the schema first (a table of the run's own).
 */
export async function prismaGenerate(dir: string, replace: Record<string, string> = {}): Promise<void> {
  const schema = join(dir, "prisma", "schema.prisma");
  let text = await readFile(schema, "utf8");
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  await writeFile(schema, text);
  const stub = join(dir, "prisma", "schema-engine-stub");
  await writeFile(stub, "#!/bin/sh\necho 'schema engine stub: not available offline' >&2\nexit 1\n");
  await chmod(stub, 0o755);
  await run(process.execPath, [join(projectRoot, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", "prisma/schema.prisma"], {
    cwd: dir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
    timeout: 120_000,
  });
}
