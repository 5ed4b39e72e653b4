/**
 * The CLI on its fixtures, without running any app: --check's findings with
 * file and line, the exit codes, idempotence, bad input, and that nothing it
 * prints contains a URL or a password found in the code.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliInProcess as run, copyFixture, ensureBuilt, FIXTURES, snapshot } from "./support/cli.js";

beforeAll(() => ensureBuilt(), 120_000);

const RULES = ["per-request-client", "checkout-without-release", "node-env-singleton", "cached-rejection", "is-connected"];

function findings(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^\S+:\d+\s{2}/.test(l)).map((l) => l.split(/\s{2}/).slice(0, 2).join(" "));
}

describe("--check", () => {
  it("finds each anti-pattern with file and line, and exits 1", async () => {
    const r = await cli(["migrate", join(FIXTURES, "antipatterns"), "--check"]); // the built bin, as a user runs it
    expect(r.code).toBe(1);
    expect(findings(r.stdout).sort()).toEqual(
      [
        "lib/mongo-old.js:7 is-connected",
        "lib/mongo-old.js:11 cached-rejection",
        "lib/mysql-checkout.js:6 checkout-without-release",
        "lib/prisma.ts:7 node-env-singleton",
        "pages/api/checkout.ts:5 checkout-without-release",
        "pages/api/per-request-mongo.js:4 per-request-client",
        "pages/api/per-request-mysql.ts:5 per-request-client",
        "pages/api/per-request.js:5 per-request-client",
      ].sort(),
    );
    for (const rule of RULES) expect(r.stdout).toContain(rule);
  });

  it("finds the anti-patterns of the unmigrated fixture apps (ESM/TS and CommonJS)", async () => {
    const next = await run(["migrate", join(FIXTURES, "next-app"), "--check"]);
    expect(next.code).toBe(1);
    expect(findings(next.stdout)).toEqual([
      "lib/connect.ts:12 cached-rejection",
      "lib/mongodb.ts:15 node-env-singleton",
      "lib/mongodb.ts:24 cached-rejection",
      "lib/mongodb.ts:30 cached-rejection",
      "lib/pg.ts:10 node-env-singleton",
    ]);
    const cjs = await run(["migrate", join(FIXTURES, "cjs-app"), "--check"]);
    expect(cjs.code).toBe(1);
    expect(findings(cjs.stdout)).toEqual([
      "lib/mongodb.js:13 cached-rejection",
      "lib/mysql.js:5 node-env-singleton",
      "middlewares/database.js:12 is-connected",
    ]);
  });

  it("finds nothing in a clean app (exit 0), and writes nothing", async () => {
    const app = copyFixture("clean");
    const before = snapshot(app.dir);
    const r = await run(["migrate", app.dir, "--check"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/no anti-pattern found in 2 files/);
    expect(snapshot(app.dir)).toEqual(before);
    app.remove();
  });

  it("--json gives the same findings as data", async () => {
    const r = await run(["migrate", join(FIXTURES, "antipatterns"), "--check", "--json"]);
    const data = JSON.parse(r.stdout) as { findings: { file: string; line: number; rule: string }[] };
    expect(data.findings).toHaveLength(8);
    expect(data.findings[0]).toMatchObject({ file: expect.any(String), line: expect.any(Number), rule: expect.any(String) });
  });
});

describe("migrate", () => {
  for (const fixture of ["next-app", "cjs-app", "antipatterns"]) {
    it(`${fixture}: the migrated app passes --check except what the report leaves for a human, and a second run changes nothing`, async () => {
      const app = copyFixture(fixture, `idem-${fixture}`);
      const first = await run(["migrate", app.dir]);
      expect(first.code, first.stderr).toBe(0);
      const after = snapshot(app.dir);
      const second = await run(["migrate", app.dir]);
      expect(second.code).toBe(0);
      expect(snapshot(app.dir)).toEqual(after);
      expect(second.stdout).toMatch(/changed 0 files/);
      const check = await run(["migrate", app.dir, "--check"]);
      const left = first.stdout.split("\n").filter((l) => /left\s+line \d+: (per-request-client|checkout-without-release|node-env-singleton|cached-rejection|is-connected)\./.test(l));
      expect(findings(check.stdout)).toHaveLength(left.length);
      expect(check.code).toBe(left.length > 0 ? 1 : 0);
      if (fixture !== "antipatterns") expect(check.code, check.stdout).toBe(0);
      app.remove();
    });
  }

  it("reports for each file the pattern found, what changed and what was left (ESM/TS app)", async () => {
    const app = copyFixture("next-app", "report-next");
    const r = await run(["migrate", app.dir, "--json"]);
    const { files } = JSON.parse(r.stdout) as { files: { file: string; found: { pattern: string }[]; changed: string[]; left: { what: string }[] }[] };
    const byFile = Object.fromEntries(files.map((f) => [f.file, f]));
    expect(Object.keys(byFile).sort()).toEqual(["lib/connect.ts", "lib/mongo-legacy.js", "lib/mongodb.ts", "lib/mysql-ts.ts", "lib/mysql.js", "lib/pg.ts", "middlewares/database-ts.ts", "middlewares/database.js", "pages/api/b/legacy.js"]);
    expect(byFile["middlewares/database.js"]!.found.map((f) => f.pattern).join("\n")).toMatch(/next-connect database middleware/);
    expect(byFile["middlewares/database.js"]!.changed.join("\n")).toMatch(/createIndexes\(db\) moved to onConnect/);
    expect(byFile["middlewares/database.js"]!.changed.join("\n")).toMatch(/getMongoClient\(\) now returns database.clientPromise\(\)/);
    expect(byFile["lib/mongodb.ts"]!.found.map((f) => f.pattern).join("\n")).toMatch(/NODE_ENV/);
    expect(byFile["lib/mongodb.ts"]!.changed.join("\n")).toMatch(/clientPromise is now database.clientPromise\(\)/);
    expect(byFile["lib/mongodb.ts"]!.left.map((l) => l.what)).toEqual(['dbName set to "test"']);
    expect(byFile["lib/pg.ts"]!.changed.join("\n")).toMatch(/pool is now an object whose query\(\)/);
    expect(byFile["pages/api/b/legacy.js"]!.changed.join("\n")).toMatch(/onError keeps the app's handler/);
    app.remove();
  });

  it("leaves Prisma for a human, with the reason, and does not touch the file", async () => {
    const app = copyFixture("prisma");
    const before = snapshot(app.dir);
    const r = await run(["migrate", app.dir]);
    expect(r.code).toBe(0);
    expect(snapshot(app.dir)).toEqual(before);
    expect(r.stdout).toMatch(/lib\/prisma\.ts\n\s+found\s+PrismaClient globalThis singleton guarded by NODE_ENV \(line 5\)/);
    expect(r.stdout).toMatch(/left\s+line 5: PrismaClient\. Why: callers use the client synchronously/);
    app.remove();
  });

  it("a pool or client other code uses in ways a stand-in cannot keep is left for a human, with where and why, and not touched", async () => {
    const app = copyFixture("pool-consumers");
    const before = snapshot(app.dir);
    const r = await run(["migrate", app.dir]);
    expect(r.code).toBe(0);
    expect(snapshot(app.dir)).toEqual(before);
    expect(r.stdout).toMatch(/left\s+line 3: pool\. Why: pages\/api\/report\.ts:6 calls pool\.query\(\) with a callback/);
    expect(r.stdout).toMatch(/left\s+line 3: pool\. Why: lib\/orm\.js:6 uses the pool as a value/);
    expect(r.stdout).toMatch(/left\s+line 4: pool\. Why: a pool of mysql2's callback API/);
    expect(r.stdout).toMatch(/left\s+line 6: client\. Why: client holds the MongoClient itself and other code uses it synchronously/);
    expect(r.stdout).toMatch(/changed 0 files; 4 items left for a human/);
    app.remove();
  });

  it("variants: single quotes without semicolons, .promise() pools, `export { x as default }`, `??=` caches on globalThis, a driver import kept for a type, a globalThis alias the app also reads", async () => {
    const app = copyFixture("variants");
    const r = await run(["migrate", app.dir]);
    expect(r.code, r.stderr).toBe(0);
    const after = snapshot(app.dir);
    const m1 = after.get("lib/m1.ts")!;
    expect(m1).toContain("import { MongoClient, Db } from 'mongodb'\nimport { createDatabase } from 'next-db-connect'\nimport { mongodb } from 'next-db-connect/mongodb'\n");
    expect(m1).toContain("const clientPromise = database.clientPromise()\n");
    expect(m1).toContain("export { clientPromise as default }");
    expect(m1).toContain("declare global {\n  var _mongoClientPromise: Promise<MongoClient>\n}");
    expect(after.get("lib/m2.js")).toContain("createDatabase(mysql2({ uri: process.env.DATABASE_URL }), { name: 'lib/m2' })");
    const pgGlobal = after.get("lib/pg-global.ts")!;
    expect(pgGlobal).toContain('import pg from "pg";\nimport { createDatabase } from "next-db-connect";\nimport { pg as pgAdapter } from "next-db-connect/pg";');
    expect(pgGlobal).toContain("const database = createDatabase(pgAdapter({}), { name: \"lib/pg-global\" });");
    expect(pgGlobal).toMatch(/export const pool = \{\n  connect: .*\n  query: .*\n\};\n\nexport default pool;\n$/);
    const counted = after.get("lib/counted.ts")!;
    expect(counted).toContain("const g = globalThis as typeof globalThis & { __evaluations?: number; __pool?: Pool };\nexport const evaluations = (g.__evaluations = (g.__evaluations ?? 0) + 1);\n");
    expect(counted).toContain('const database = createDatabase(pg({ connectionString: process.env.DATABASE_URL }), { name: "lib/counted" });');
    expect(counted).not.toContain("new Pool");
    expect(r.stdout).toMatch(/changed 4 files; 1 item left for a human/);
    expect((await run(["migrate", app.dir, "--check"])).code).toBe(0);
    expect((await run(["migrate", app.dir])).stdout).toMatch(/changed 0 files/);
    app.remove();
  });

  it("--dry prints a diff and writes nothing", async () => {
    const app = copyFixture("cjs-app", "dry-cjs");
    const before = snapshot(app.dir);
    const r = await run(["migrate", app.dir, "--dry"]);
    expect(r.code).toBe(0);
    expect(snapshot(app.dir)).toEqual(before);
    expect(r.stdout).toContain("--- a/middlewares/database.js\n+++ b/middlewares/database.js");
    expect(r.stdout).toContain('-  if (!client.isConnected()) {');
    expect(r.stdout).toContain('+const { createDatabase } = require("next-db-connect");');
    expect(r.stdout).toMatch(/would change 5 files/);
    app.remove();
  });

  it("keeps the file's comments and formatting outside the rewritten statements", async () => {
    const app = copyFixture("next-app", "format-next");
    await run(["migrate", app.dir]);
    const after = snapshot(app.dir);
    const mw = after.get("middlewares/database.js")!;
    expect(mw).toContain("// Indexes the app relies on, created once per process.\nasync function createIndexes(db) {");
    expect(mw).toContain("let indexesCreated = false;");
    const mongo = after.get("lib/mongodb.ts")!;
    expect(mongo.startsWith("// The Next.js with-mongodb example's shape: a module-scoped promise of a\n// connected MongoClient, kept on `global` in development only.\n")).toBe(true);
    expect(mongo).toContain("// Shared by every route that imports it.\nexport default clientPromise;\n");
    expect(mongo).toContain('if (!process.env.MONGODB_URI) {\n  throw new Error(\'Invalid/Missing environment variable: "MONGODB_URI"\');\n}');
    // Driver imports nothing uses any more are dropped; the ones still used (types, errors) stay.
    expect(after.get("lib/mysql.js")).not.toContain("mysql2/promise");
    expect(mongo).not.toContain('from "mongodb"');
    expect(after.get("pages/api/b/legacy.js")).toContain('import { MongoNetworkError } from "mongodb";');
    app.remove();
  });
});

describe("output never shows secrets found in the code", () => {
  it("no password or URL from the code in the report, --dry diff, --check or --json output", async () => {
    const app = copyFixture("secrets");
    const outputs = [
      await run(["migrate", app.dir, "--dry"]),
      await run(["migrate", app.dir, "--check"]),
      await run(["migrate", app.dir, "--dry", "--json"]),
      await run(["migrate", app.dir]),
    ];
    for (const o of outputs) {
      const all = o.stdout + o.stderr;
      for (const secret of ["hunter2-secret", "s3cr3t-pw", "m0ngo-pass", "mongo.example", "db.example", "postgres://admin"]) expect(all).not.toContain(secret);
    }
    expect(outputs[0]!.stdout).toContain('password: "…"');
    // The written file still has them: masking is for output only.
    expect(snapshot(app.dir).get("lib/db.js")).toContain("hunter2-secret");
    app.remove();
  });
});

describe("packaging", () => {
  it("the tarball ships dist/cli.js as the bin, executable, with its shebang; ts-morph is an optional peer, never a dependency", async () => {
    const root = join(FIXTURES, "../../..");
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ "next-db-connect": "./dist/cli.js" });
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies["ts-morph"]).toMatch(/^\^\d+/);
    expect(pkg.peerDependenciesMeta["ts-morph"]).toEqual({ optional: true });
    expect(pkg.devDependencies["ts-morph"]).toBeDefined();
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json"], { cwd: root });
    const files = (JSON.parse(stdout)[0].files as { path: string; mode: number }[]).filter((f) => f.path === "dist/cli.js");
    expect(files).toHaveLength(1);
    expect(files[0]!.mode & 0o111).not.toBe(0);
    expect(readFileSync(join(root, "dist", "cli.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    // The library never loads the CLI: no built library file mentions it or its parser.
    for (const entry of ["index.js", "index.cjs", "pg.js", "mongodb.cjs", "mysql2.js"]) expect(readFileSync(join(root, "dist", entry), "utf8")).not.toMatch(/ts-morph|cli\.js/);
  });
});

describe("bad input", () => {
  it("no such folder: exit 2, names it", async () => {
    const r = await cli(["migrate", "/no/such/folder-ndc"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("next-db-connect: no such folder: /no/such/folder-ndc\n");
  });

  it("a file that does not parse: exit 2, file:line:column and the parser's message, nothing written", async () => {
    const app = copyFixture("cjs-app", "unparsable");
    mkdirSync(join(app.dir, "broken"), { recursive: true });
    writeFileSync(join(app.dir, "broken", "route.ts"), "export const GET = () => {\n  return Response.json({ ok: true };\n};\n");
    const before = snapshot(app.dir);
    const r = await run(["migrate", app.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^next-db-connect: cannot parse broken\/route\.ts:2:\d+: '\)' expected\.\n$/);
    expect(snapshot(app.dir)).toEqual(before);
    app.remove();
  });

  it("unknown option and unknown command: exit 2; --help documents the exit codes; --version", async () => {
    const bad = await cli(["migrate", ".", "--force"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option "--force"/);
    expect((await cli(["upgrade"])).code).toBe(2);
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const word of ["--check", "--dry", "--json", "--no-install", "Exit codes", ...RULES]) expect(help.stdout).toContain(word);
    expect((await cli(["--version"])).stdout.trim()).toBe(JSON.parse(readFileSync(join(FIXTURES, "../../../package.json"), "utf8")).version);
  });
});
