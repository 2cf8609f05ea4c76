// Run by deploy.yml after `npm prune --omit=dev`: every package the shipped code (dist/functions, dist/domain)
// imports must still be installed, i.e. be a runtime dependency, or the function app fails at start in Azure.
// Type-only imports are gone from the compiled JavaScript, so they do not count.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []);
const patterns = [/^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm, /^\s*import\s*["']([^"']+)["']/gm, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
const missing = new Set();
let count = 0;
for (const file of [...files("dist/functions"), ...files("dist/domain")]) {
  const text = readFileSync(file, "utf8");
  for (const spec of patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1]))) {
    if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
    count++;
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!existsSync(join("node_modules", name, "package.json"))) missing.add(`${name} (${file})`);
  }
}
if (missing.size) { console.log(`::error::Imported but not installed after the prune: ${[...missing].join(", ")}`); process.exit(1); }
console.log(`${count} package imports, all installed`);
