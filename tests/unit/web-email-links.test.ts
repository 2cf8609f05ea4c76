import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/app.js";

// The links in emails and notifications are a contract with the web app: each must land on one of its pages.
// Links come from the templates (`{{appUrl}}/path`) and from URLs built in domain code (`${appUrl…}/path`);
// `{{param}}` and `${…}` segments must meet a `:param` segment of a route. `/api/...` links are API links.

const param = "\u0000";

/** A link's path as segments, parameters replaced by one marker; the query and fragment are not the route's. */
function segments(path: string): string[] {
  const bare = path
    .replace(/\{\{\w+\}\}/g, param)
    .replace(/\$\{[^}]*\}/g, param)
    .split(/[?#]/)[0]!;
  return bare.split("/").filter(Boolean);
}

function matches(route: string, link: string[]): boolean {
  const wanted = route.split("/").filter(Boolean);
  return wanted.length === link.length && wanted.every((s, i) => (s.startsWith(":") ? link[i] === param : s === link[i]));
}

/**
 * The web app's page paths, read from its route files (`path: "/courses/:courseId"`). Not imported: the web app's
 * modules bring the DOM's types, which would change the Node types of every other file in this program.
 */
async function pagePaths(): Promise<string[]> {
  const pages = join(repoRoot, "web", "src", "pages");
  const files = (await readdir(pages, { withFileTypes: true, recursive: true })).filter((e) => e.isFile() && e.name === "routes.ts");
  const paths: string[] = [];
  for (const file of files) for (const m of (await readFile(join(file.parentPath, file.name), "utf8")).matchAll(/\bpath: "([^"]+)"/g)) paths.push(m[1]!);
  return paths;
}

async function domainFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

/** Every app link with where it was found. */
async function appLinks(): Promise<{ path: string; where: string }[]> {
  const found: { path: string; where: string }[] = [];
  for (const file of await domainFiles(join(repoRoot, "domain"))) {
    const text = await readFile(file, "utf8");
    const where = relative(repoRoot, file);
    for (const m of text.matchAll(/\{\{appUrl\}\}(\/[^"'`\s]*)/g)) found.push({ path: m[1]!, where });
    // `${appUrl}` or `${appUrl.replace(/\/+$/, "")}` followed by the path, up to the end of the template literal.
    for (const m of text.matchAll(/\$\{(?:\w+\.)?appUrl(?:\.replace\([^)]*\))?\}(\/[^`\s]*)`/g)) found.push({ path: m[1]!, where });
  }
  return found.filter((l) => !l.path.startsWith("/api/"));
}

describe("links in emails and notifications", () => {
  it("finds the links (the templates' and those built in domain code)", async () => {
    const links = await appLinks();
    expect(links.some((l) => l.where.endsWith("templates.ts"))).toBe(true);
    expect(links.some((l) => !l.where.endsWith("templates.ts"))).toBe(true);
  });

  it("land on a page of the web app, a parameter on a :param segment", async () => {
    const paths = await pagePaths();
    expect(paths).toContain("/courses/:courseId");
    const missing = [...new Map((await appLinks()).map((l) => [l.path, l])).values()].filter((l) => !paths.some((p) => matches(p, segments(l.path))));
    expect(missing.map((l) => `${l.path} (${l.where})`)).toEqual([]);
  });
});
