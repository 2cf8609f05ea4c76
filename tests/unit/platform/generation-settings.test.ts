import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generationConfigured } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";
import { testSettings } from "../../support/settings.js";

// The generation start route answers 503 GENERATION_NOT_CONFIGURED exactly when this decision says no model is set
// (functions/http/generation-jobs.ts); the e2e file runs with the stand-in, so the decision is checked here.
describe("question generation settings", () => {
  const values = (JSON.parse(readFileSync(join(repoRoot, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> }).Values;
  // The sample's generation settings (the rest of it holds the runtime's markers, which only the runtime resolves).
  const sample = Object.fromEntries(Object.entries(values).filter(([name]) => /^(AZURE_OPENAI_|GENERATION_)/.test(name)));
  const settingsWith = (overrides: Record<string, string> = {}) => testSettings({ ...sample, ...overrides });

  it("has no model by default: the sample leaves the endpoint and deployment empty", () => {
    expect(Object.keys(sample).sort()).toEqual(["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_CLIENT_ID", "AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_ENDPOINT", "GENERATION_MAX_DOCUMENT_BYTES", "GENERATION_MAX_ITEMS", "GENERATION_RESEND_SCHEDULE"]);
    const s = settingsWith();
    expect(s).toMatchObject({ AZURE_OPENAI_ENDPOINT: "", AZURE_OPENAI_DEPLOYMENT: "", GENERATION_MAX_DOCUMENT_BYTES: 10 * 1024 * 1024, GENERATION_MAX_ITEMS: 20 });
    expect(generationConfigured(s)).toBe(false);
  });

  it("needs both an endpoint and a deployment", () => {
    expect(generationConfigured(settingsWith({ AZURE_OPENAI_ENDPOINT: "https://ringlet.openai.azure.com/" }))).toBe(false);
    expect(generationConfigured(settingsWith({ AZURE_OPENAI_ENDPOINT: "https://ringlet.openai.azure.com/", AZURE_OPENAI_DEPLOYMENT: "items" }))).toBe(true);
    expect(() => settingsWith({ AZURE_OPENAI_ENDPOINT: "not a url" })).toThrow(/AZURE_OPENAI_ENDPOINT/);
  });
});
