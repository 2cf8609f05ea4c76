// Loads the function app like the Node worker: every file matched by package.json "main" (a path or a glob),
// imported in sorted order, then the appStart hooks.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { hostDebug } from "./log.js";
import type { FunctionHost } from "./function-host.js";

interface PackageJson {
  name?: unknown;
  main?: unknown;
  type?: unknown;
}

export function readPackageJson(appRoot: string): PackageJson {
  return JSON.parse(readFileSync(path.join(appRoot, "package.json"), "utf8")) as PackageJson;
}

const magic = /[*?[{]/;

/** Matches a glob pattern (`*`, `**`, `?`, `{a,b}`, `[abc]`) against app-relative paths with forward slashes. */
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        const slashAfter = pattern[i + 2] === "/";
        source += slashAfter ? "(?:.*/)?" : ".*";
        i += slashAfter ? 2 : 1;
      } else {
        source += "[^/]*";
      }
    } else if (ch === "?") source += "[^/]";
    else if (ch === "{") {
      const end = pattern.indexOf("}", i);
      if (end < 0) source += "\\{";
      else {
        const options = pattern.slice(i + 1, end).split(",");
        source += `(?:${options.map((o) => globToRegExp(o).source.slice(1, -1)).join("|")})`;
        i = end;
      }
    } else if (ch === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) source += "\\[";
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else source += ch.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** The files "main" names, relative to the app root, sorted like the worker's globby result. */
export function resolveEntryPoints(appRoot: string, main: string): string[] {
  const pattern = main.replace(/\\/g, "/").replace(/^\.\//, "");
  if (!magic.test(pattern)) return existsSync(path.join(appRoot, pattern)) ? [pattern] : [];

  const staticParts: string[] = [];
  for (const part of pattern.split("/")) {
    if (magic.test(part)) break;
    staticParts.push(part);
  }
  const matcher = globToRegExp(pattern);
  const found: string[] = [];
  const walk = (relativeDir: string): void => {
    const absolute = path.join(appRoot, relativeDir);
    if (!existsSync(absolute)) return;
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(relative);
      else if (matcher.test(relative)) found.push(relative);
    }
  };
  walk(staticParts.join("/"));
  return found.sort();
}

/** Imports each entry point; a failure names the file, as the worker's "unable to load entry point" does. */
export async function loadApp(host: FunctionHost, appRoot: string): Promise<string[]> {
  const packageJson = readPackageJson(appRoot);
  if (typeof packageJson.main !== "string" || packageJson.main === "") {
    throw new Error(`package.json in ${appRoot} has no "main" naming the function entry point(s).`);
  }
  const files = resolveEntryPoints(appRoot, packageJson.main);
  if (files.length === 0) {
    const reason = magic.test(packageJson.main) ? "Found zero files matching the supplied pattern" : "File does not exist";
    throw new Error(`Worker was unable to load entry point "${packageJson.main}": ${reason}`);
  }
  const requireFromApp = createRequire(path.join(appRoot, "package.json"));
  for (const file of files) {
    const absolute = path.join(appRoot, file);
    host.currentEntryPoint = absolute;
    hostDebug(`Loading entry point file "${file}"`);
    try {
      if (isEsModule(file, packageJson)) await import(pathToFileURL(absolute).href);
      else requireFromApp(absolute);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`Worker was unable to load entry point "${file}": ${message}`, { cause: error });
    } finally {
      host.currentEntryPoint = undefined;
    }
  }
  return files;
}

function isEsModule(file: string, packageJson: PackageJson): boolean {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  return packageJson.type === "module";
}
