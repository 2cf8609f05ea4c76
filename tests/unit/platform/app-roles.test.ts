import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../support/app.js";

// APP_ROLE splits the app in two hosts (functions/index.ts): every module that registers a function must be loaded
// by exactly one of the two lists, or its function would run in both apps (twice) or in neither (never).
const functionsDir = join(repoRoot, "functions");
const registers = /\b(?:app\.(?:http|timer|serviceBusTopic|serviceBusQueue|get|post|put|patch|delete)\(|df\.app\.(?:orchestration|activity|entity)\(|\broute\(|subscriptionHandler\()/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

function imported(list: string): string[] {
  const file = join(functionsDir, list);
  return [...readFileSync(file, "utf8").matchAll(/^import "(\.[^"]+)\.js";$/gm)].map((m) => relative(functionsDir, join(file, "..", `${m[1]}.ts`)));
}

describe("app roles", () => {
  it("loads every registering module in exactly one role", () => {
    const main = imported("main-functions.ts");
    const worker = imported("imports/worker-functions.ts");
    const registering = sources(functionsDir)
      .filter((f) => registers.test(readFileSync(f, "utf8")))
      .map((f) => relative(functionsDir, f))
      // the helpers that define route() and subscriptionHandler() register nothing themselves
      .filter((f) => !f.startsWith("platform/"));
    expect(registering.length).toBeGreaterThan(40);
    const both = registering.filter((f) => main.includes(f) && worker.includes(f));
    const neither = registering.filter((f) => !main.includes(f) && !worker.includes(f));
    expect({ both, neither }).toEqual({ both: [], neither: [] });
    expect(worker.sort()).toEqual(["imports/bulk-import.ts", "imports/import-queue.ts"]);
  });
});
