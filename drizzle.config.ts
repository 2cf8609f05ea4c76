import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` is used: it diffs the schema against the committed snapshots and needs no
// database. Migrations are applied by `npm run db:migrate`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./domain/db/schema/index.ts",
  out: "./domain/db/migrations",
  casing: "snake_case",
  strict: true,
});
