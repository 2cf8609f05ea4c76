import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../support/app.js";

// The production-facing parameter files keep the hardened edge: no API docs, no wildcard CORS.
const paramFile = (env: string) => readFileSync(join(repoRoot, "bicep", "env", `${env}.bicepparam`), "utf8");
const moduleFile = readFileSync(join(repoRoot, "bicep", "modules", "function-app.bicep"), "utf8");

describe.each(["prod", "staging"])("bicep/env/%s.bicepparam", (env) => {
  it("switches the API docs off", () => {
    expect(paramFile(env)).toMatch(/^param apiDocsEnabled = false$/m);
  });

  it("never allows every origin", () => {
    const cors = /^param corsAllowedOrigins = ([\s\S]*?)(?=^param |\s*$(?![\s\S]))/m.exec(paramFile(env))?.[1] ?? "";
    expect(cors).not.toContain("*");
  });
});

describe("the function app module", () => {
  it("leaves CORS to the app: the platform's list is empty", () => {
    expect(moduleFile).toMatch(/cors: \{\s*allowedOrigins: \[\]/);
    expect(moduleFile).toMatch(/CORS_ALLOWED_ORIGINS: join\(corsAllowedOrigins, ','\)/);
  });
});
