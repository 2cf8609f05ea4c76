import { runMigrations } from "../migrations.js";
import { SettingsError, databaseSettingsSchema, parseEnv } from "../settings.js";

// `npm run db:migrate`: applies the committed migrations to DATABASE_URL.
try {
  await runMigrations(parseEnv(databaseSettingsSchema, process.env));
  console.log("migrations applied");
} catch (err) {
  console.error(err instanceof SettingsError ? err.message : err);
  process.exitCode = 1;
}
