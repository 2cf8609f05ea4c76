// Run by deploy.yml after `npm prune --omit=dev`: every package the shipped code imports must still be installed,
// i.e. be a runtime dependency, or the function app fails at start in Azure. The build lists what its output
// imports from outside dist/ (dist/package-imports.json, scripts/build-app.ts): the app's `#vendor/<name>` imports,
// each built into dist/vendor, and the packages left in node_modules. Type-only imports are not in the build.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
const imports = JSON.parse(readFileSync("dist/package-imports.json", "utf8"));
const missing = imports.filter((spec) => {
  if (spec.startsWith("#vendor/")) return !existsSync(join("dist/vendor", `${spec.slice("#vendor/".length)}.mjs`));
  const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
  return !existsSync(join("node_modules", name, "package.json"));
});
if (missing.length) { console.log(`::error::Imported but not installed after the prune: ${missing.join(", ")}`); process.exit(1); }
console.log(`${imports.length} package imports, all installed`);
