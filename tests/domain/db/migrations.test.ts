import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../../functions/platform/migrations.js";
import { databaseSettingsSchema, parseEnv } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("migrations", () => {
  it("create the cross-cutting tables", async () => {
    const tables = await db.sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["audit_log", "idempotency_keys", "inbox", "outbox"]));
  });

  it("can run again, concurrently, without changing anything", async () => {
    const settings = parseEnv(databaseSettingsSchema, { DATABASE_URL: db.url });
    await Promise.all([runMigrations(settings), runMigrations(settings)]);
    const applied = await db.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(applied[0]?.n).toBeGreaterThan(0);
  });

  it("are in step with the Drizzle schema (every schema change has a committed migration)", async () => {
    const out = await mkdtemp(join(tmpdir(), "ringlet-drizzle-"));
    try {
      await cp(join(repoRoot, "domain", "db", "migrations"), out, { recursive: true });
      // drizzle-kit reads `out` relative to its working directory.
      const config = join(out, "drizzle.check.config.ts");
      await writeFile(
        config,
        `export default ${JSON.stringify({ dialect: "postgresql", schema: join(repoRoot, "domain/db/schema/index.ts"), out: relative(repoRoot, out), casing: "snake_case" })};`,
      );
      const { stdout, stderr } = await promisify(execFile)(join(repoRoot, "node_modules", ".bin", "drizzle-kit"), ["generate", "--config", config], {
        cwd: repoRoot,
      });
      expect(stdout + stderr).toContain("No schema changes");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
