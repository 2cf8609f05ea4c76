import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { appRoleNames, settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";

// APP_ROLE splits the app in hosts (functions/index.ts): every module that registers a function must be loaded by
// exactly one role's list, or its function would run in two apps (twice) or in none (never).
const functionsDir = join(repoRoot, "functions");
const registers = /\b(?:app\.(?:http|timer|serviceBusTopic|serviceBusQueue|get|post|put|patch|delete)\(|df\.app\.(?:orchestration|activity|entity)\(|\broute\(|subscriptionHandler\()/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

function imported(list: string): string[] {
  const file = join(functionsDir, list);
  return [...readFileSync(file, "utf8").matchAll(/^import "(\.[^"]+)\.js";$/gm)].map((m) => relative(functionsDir, join(file, "..", `${m[1]}.ts`)));
}

// Each role's module list, as functions/index.ts loads it.
const roleLists = [...readFileSync(join(functionsDir, "index.ts"), "utf8").matchAll(/^ {2}"?([a-z-]+)"?: \(\) => import\("\.\/([^"]+)\.js"\),$/gm)].map((m) => ({ role: m[1] ?? "", list: `${m[2]}.ts` }));

describe("app roles", () => {
  it("loads each role's own list, one per role the settings accept", () => {
    expect(roleLists.map((r) => r.role)).toEqual([...appRoleNames]);
    expect(roleLists.map((r) => r.list)).toEqual(["main-functions.ts", "imports/worker-functions.ts", "enrichment-worker-functions.ts", "generation-worker-functions.ts"]);
  });

  it("loads every registering module in exactly one role", () => {
    const lists = new Map(roleLists.map((r) => [r.role, imported(r.list)]));
    const registering = sources(functionsDir)
      .filter((f) => registers.test(readFileSync(f, "utf8")))
      .map((f) => relative(functionsDir, f))
      // the helpers that define route() and subscriptionHandler() register nothing themselves
      .filter((f) => !f.startsWith("platform/"));
    expect(registering.length).toBeGreaterThan(40);
    const owners = (f: string) => [...lists].filter(([, modules]) => modules.includes(f)).map(([role]) => role);
    const notOne = registering.map((f) => ({ module: f, roles: owners(f) })).filter((m) => m.roles.length !== 1);
    expect(notOne).toEqual([]);
    expect(lists.get("import-worker")?.sort()).toEqual(["imports/bulk-import.ts", "imports/import-queue.ts"]);
    expect(lists.get("enrichment-worker")).toEqual(["events/item-analysis.ts"]);
    expect(lists.get("generation-worker")).toEqual(["generation/generation-queue.ts"]);
  });

  it("takes a comma-separated list of roles, all for every role, and refuses an unknown or empty one", () => {
    const parse = (v: string | undefined) => settingsSchema.shape.APP_ROLE.safeParse(v);
    expect(parse(undefined).data).toEqual([...appRoleNames]);
    expect(parse("all").data).toEqual([...appRoleNames]);
    expect(parse("main").data).toEqual(["main"]);
    expect(parse("generation-worker, import-worker,enrichment-worker").data).toEqual(["import-worker", "enrichment-worker", "generation-worker"]);
    expect(parse("main,main").data).toEqual(["main"]);
    for (const bad of ["", " ", "worker", "main,", "main,,import-worker", "Main"]) expect(parse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(parse("main,imports").error?.issues[0]?.message).toContain('unknown role "imports"');
  });
});
