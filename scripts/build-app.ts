// Builds the function app into dist/ with esbuild, in two parts, because a Node host pays for every ES module it
// loads: the app's ~470 compiled files and ~600 files of its packages' ESM builds took ~1.5 s of CPU to import,
// which every cold start in Azure and every runtime the tests start (~120 a CI run) paid (docs/architecture.md,
// "The build and cold start").
// - The app: functions/ and domain/ bundled from their TypeScript, split at the dynamic imports (each role's
//   functions and the rarely used paths stay loaded on first use), with source maps back to the TypeScript.
// - Its packages: each package the app imports is bundled once into dist/vendor/<name>.mjs (shared code split
//   into chunks), and the app imports it as `#vendor/<name>` (package.json "imports").
// Keeping the packages out of the app's chunks keeps coverage and source maps to the repository's own code.
// Packages that must stay where they are installed are left out of both (`installed` below).
import { rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");

// Loaded from node_modules, as they are: instrumentation that patches modules as they are required (the Azure
// Monitor distro, OpenTelemetry) and the one state the Azure SDK's tracing shares with it; files served from the
// package's folder (swagger-ui-dist); and the module only the Functions worker provides.
const installed = ["@azure/monitor-opentelemetry", "@opentelemetry/*", "@azure/core-tracing", "swagger-ui-dist", "@azure/functions-core"];
const builtins = new Set(builtinModules);
const isPackage = (specifier: string): boolean =>
  !/^[./#]/.test(specifier) && !specifier.startsWith("node:") && !builtins.has(specifier) && !builtins.has(specifier.split("/")[0] ?? "");
// A package's subpaths go with it, as in esbuild's own `external`.
const stayInstalled = (specifier: string): boolean =>
  installed.some((name) => (name.endsWith("/*") ? specifier.startsWith(name.slice(0, -1)) : specifier === name || specifier.startsWith(`${name}/`)));
/** `@azure/storage-blob` → `azure__storage-blob`: one file name per import specifier. */
const vendorName = (specifier: string): string => specifier.replace(/^@/, "").replace(/[^\w.-]+/g, "__");

// A CommonJS require() inside an ES module bundle needs a real `require`; esbuild's stand-in throws.
const requireBanner = "import { createRequire as __ringletCreateRequire } from 'node:module'; const require = __ringletCreateRequire(import.meta.url);";
const common = { bundle: true, splitting: true, format: "esm", platform: "node", target: "node20", logLevel: "warning", legalComments: "none" } as const;

const packagesUsed = new Set<string>();
const toVendor: Plugin = {
  name: "packages-to-vendor",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!isPackage(args.path)) return undefined;
      if (stayInstalled(args.path)) return { path: args.path, external: true };
      packagesUsed.add(args.path);
      return { path: `#vendor/${vendorName(args.path)}`, external: true };
    });
  },
};

rmSync(join(dist, "functions"), { recursive: true, force: true });
rmSync(join(dist, "domain"), { recursive: true, force: true });
rmSync(join(dist, "vendor"), { recursive: true, force: true });

const app = await build({
  ...common,
  absWorkingDir: root,
  metafile: true,
  // The host's entry (package.json "main") and the commands run with `node` (migrations, the first administrator).
  entryPoints: ["functions/index.ts", "functions/platform/commands/migrate.ts", "functions/platform/commands/create-admin.ts"],
  outbase: ".",
  outdir: dist,
  chunkNames: "functions/chunks/[name]-[hash]",
  // Coverage and stack traces map back to the TypeScript; the sources are in the repository, not in the maps.
  sourcemap: "linked",
  sourcesContent: false,
  plugins: [toVendor],
});

// Each package entry re-exports by name what Node's own import gives the app (for a CommonJS package, the names
// Node finds in it): a CommonJS module bundled as an entry would otherwise export only its default.
const vendorEntries: Plugin = {
  name: "vendor-entries",
  setup(b) {
    // Named .mjs: esbuild gives importers in .mjs files Node's interop for CommonJS (the default is module.exports).
    b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({ path: `${args.path.slice("vendor-entry:".length)}.mjs`, namespace: "vendor-entry" }));
    b.onLoad({ filter: /.*/, namespace: "vendor-entry" }, async (args) => {
      const specifier = args.path.slice(0, -".mjs".length);
      const exported = (await import(specifier)) as Record<string, unknown>;
      const names = Object.keys(exported).filter((name) => name !== "default" && name !== "module.exports");
      const lines = names.length > 0 ? [`export { ${names.join(", ")} } from ${JSON.stringify(specifier)};`] : [];
      if ("default" in exported) lines.push(`export { default } from ${JSON.stringify(specifier)};`);
      return { contents: lines.join("\n"), resolveDir: root, loader: "js" };
    });
  },
};

const vendor = await build({
  ...common,
  absWorkingDir: root,
  metafile: true,
  entryPoints: Object.fromEntries([...packagesUsed].sort().map((specifier) => [vendorName(specifier), `vendor-entry:${specifier}`])),
  outdir: join(dist, "vendor"),
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  external: installed,
  banner: { js: requireBanner },
  plugins: [vendorEntries],
});

// What the built code imports from outside dist/: the deploy workflow checks each is still installed after it prunes
// the development packages (.github/scripts/check-package-imports.mjs). The worker's own module is not installed.
const importedFromOutside = (path: string): boolean => (path.startsWith("#vendor/") || isPackage(path)) && path !== "@azure/functions-core";
const externalImports = [app, vendor].flatMap((result) =>
  Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external && importedFromOutside(i.path)).map((i) => i.path)),
);
writeFileSync(join(dist, "package-imports.json"), `${JSON.stringify([...new Set(externalImports)].sort(), null, 2)}\n`);
