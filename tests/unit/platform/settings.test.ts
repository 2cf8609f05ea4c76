import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSettings, SettingsError, settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";

const valid = { DATABASE_URL: "postgres://u:p@localhost:5432/db", BlobStorage: "UseDevelopmentStorage=true" };

describe("settings", () => {
  it("applies defaults to what is not set", () => {
    const s = parseSettings(valid);
    expect(s.DATABASE_POOL_MAX).toBe(5);
    expect(s.DATABASE_PGBOUNCER).toBe(false);
    expect(s.HTTP_MAX_BODY_BYTES).toBe(1_048_576);
  });

  it("reads typed values from strings", () => {
    const s = parseSettings({ ...valid, DATABASE_POOL_MAX: "12", DATABASE_PGBOUNCER: "true", LOG_LEVEL: "debug" });
    expect(s).toMatchObject({ DATABASE_POOL_MAX: 12, DATABASE_PGBOUNCER: true, LOG_LEVEL: "debug" });
  });

  it("names every missing or malformed setting at once", () => {
    try {
      parseSettings({ DATABASE_URL: "mysql://x", DATABASE_POOL_MAX: "lots", DATABASE_PGBOUNCER: "maybe" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      const problems = (err as SettingsError).problems.join("\n");
      for (const name of ["DATABASE_URL", "DATABASE_POOL_MAX", "DATABASE_PGBOUNCER", "BlobStorage"]) {
        expect(problems).toContain(name);
      }
    }
  });

  it("treats an empty value as not set", () => {
    expect(() => parseSettings({ ...valid, DATABASE_URL: "" })).toThrow(/DATABASE_URL: is required/);
  });

  it("accepts the managed-identity form of Blob settings", () => {
    const s = parseSettings({ DATABASE_URL: valid.DATABASE_URL, BlobStorage__serviceUri: "https://acct.blob.core.windows.net" });
    expect(s.BlobStorage__serviceUri).toBe("https://acct.blob.core.windows.net");
  });

  it("lists every setting of the schema in local.settings.sample.json", () => {
    const sample = JSON.parse(readFileSync(join(repoRoot, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
    const identityOnly = ["BlobStorage__serviceUri", "BlobStorage__clientId"];
    const names = Object.keys(settingsSchema.shape).filter((n) => !identityOnly.includes(n));
    expect(names.filter((n) => !(n in sample.Values))).toEqual([]);
  });
});
