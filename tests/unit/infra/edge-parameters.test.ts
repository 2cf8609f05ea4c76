import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../support/app.js";
import { testSettings } from "../../support/settings.js";

// The production-facing parameter files keep the hardened edge: no API docs, no wildcard CORS.
const paramFile = (env: string) => readFileSync(join(repoRoot, "bicep", "env", `${env}.bicepparam`), "utf8");
const moduleFile = readFileSync(join(repoRoot, "bicep", "modules", "function-app.bicep"), "utf8");
const mainFile = readFileSync(join(repoRoot, "bicep", "main.bicep"), "utf8");

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

describe("main.bicep", () => {
  it("allows the web app's origins in CORS, the app's and Blob Storage's: publicAppUrl's (or the site's) and the site's own", () => {
    const origin = "join(take(split(publicAppUrl, '/'), 3), '/')";
    // corsAllowedOrigins only adds origins: the web app's are always there (the site calls the API cross-origin).
    expect(mainFile).toMatch(/^param corsAllowedOrigins array = \[\]$/m);
    expect(mainFile).toContain("var webAppUrl = empty(publicAppUrl) ? staticWebApp.outputs.url : publicAppUrl");
    expect(mainFile).toContain(`var publicAppOrigin = ${origin.replace("publicAppUrl", "webAppUrl")}`);
    expect(mainFile).toMatch(/corsAllowedOrigins: union\(\[publicAppOrigin\], \[staticWebApp\.outputs\.url\]\)\n/);
    expect(mainFile).toContain("corsAllowedOrigins: union([publicAppOrigin], [staticWebApp.outputs.url], corsAllowedOrigins)");
    // No linked backend (bicep/README.md, "Why no linked backend").
    expect(mainFile).not.toMatch(/linkedBackends|static-web-app-backend/);
    // What the expression yields (Bicep's split, take and join on '/'), and what the app reads from it. The app
    // reduces a URL to its origin itself too, so even a publicAppUrl passed as it is cannot stop it at start.
    const bicepOrigin = (url: string) => url.split("/").slice(0, 3).join("/");
    for (const url of ["https://app.ringlet.example", "https://app.ringlet.example/", "https://app.ringlet.example/learn/", "http://localhost:3000/"]) {
      expect(bicepOrigin(url)).toBe(new URL(url).origin);
      expect(testSettings({ CORS_ALLOWED_ORIGINS: bicepOrigin(url) }).CORS_ALLOWED_ORIGINS).toEqual([new URL(url).origin]);
      expect(testSettings({ CORS_ALLOWED_ORIGINS: url }).CORS_ALLOWED_ORIGINS).toEqual([new URL(url).origin]);
    }
  });
});
