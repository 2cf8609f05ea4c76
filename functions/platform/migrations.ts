import { join } from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { openDatabase } from "./database.js";
import { projectRoot } from "./project-root.js";
import type { DatabaseSettings } from "./settings.js";

// Any fixed number: a session-level advisory lock so two migrators never run at once.
const MIGRATION_LOCK = 72_410_001;

export const migrationsFolder = (): string => join(projectRoot(), "domain", "db", "migrations");

/** Applies the committed drizzle-kit migrations; safe to run concurrently and repeatedly. */
export async function runMigrations(s: DatabaseSettings): Promise<void> {
  const handle = openDatabase(s, { max: 1 });
  try {
    await handle.sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migrate(handle.db, { migrationsFolder: migrationsFolder() });
      // Behind PgBouncer the statement timeout cannot travel as a startup parameter: make it the role's default.
      await handle.sql.unsafe(`alter role current_user set statement_timeout = ${Number(s.DATABASE_STATEMENT_TIMEOUT_MS)}`);
    } finally {
      await handle.sql`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    await handle.close();
  }
}
