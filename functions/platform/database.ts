import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Database } from "../../domain/db/client.js";
import * as schema from "../../domain/db/schema/index.js";
import type { DatabaseSettings } from "./settings.js";

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** One pool per function instance; many instances share one server, so the pool stays small. */
export function openDatabase(s: DatabaseSettings, options: { max?: number } = {}): DatabaseHandle {
  const sql = postgres(s.DATABASE_URL, {
    max: options.max ?? s.DATABASE_POOL_MAX,
    idle_timeout: s.DATABASE_IDLE_TIMEOUT_S,
    connect_timeout: 10,
    // PgBouncer in transaction mode hands each transaction a different server connection,
    // so named prepared statements would be missing on the next one.
    prepare: !s.DATABASE_PGBOUNCER,
    ssl: s.DATABASE_SSL === "disable" ? false : s.DATABASE_SSL === "require" ? "require" : "verify-full",
    // PgBouncer refuses unknown startup parameters, so behind it the timeout comes from the role's
    // default, which `npm run db:migrate` sets (see commands/migrate.ts).
    connection: s.DATABASE_PGBOUNCER
      ? { application_name: "ringlet" }
      : { application_name: "ringlet", statement_timeout: s.DATABASE_STATEMENT_TIMEOUT_MS },
    onnotice: () => {},
  });
  const db = drizzle(sql, { schema, casing: "snake_case" });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
