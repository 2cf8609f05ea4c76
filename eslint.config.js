import js from "@eslint/js";
import tseslint from "typescript-eslint";

const azurePackages = { group: ["@azure/*", "durable-functions"], message: "domain/ never imports Azure packages (docs/architecture.md, dependency rule)." };
// The local runtime is a development tool the app is run by, never a library it uses.
const localRuntime = { group: ["@ringlet/local-runtime", "@ringlet/local-runtime/*", "**/packages/**"], message: "The app never imports the local runtime (packages/local-runtime): the runtime loads the app." };

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.local-data/**", "coverage/**", "domain/db/migrations/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "smart"],
      // One quote style for every package of the repository (the local runtime's sources once used single quotes).
      quotes: ["error", "double", { avoidEscape: true, allowTemplateLiterals: true }],
      "no-console": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", Buffer: "readonly" } },
    rules: { "@typescript-eslint/consistent-type-imports": "off" },
  },
  {
    // The dependency rule: domain/ is the LMS, free of Azure, the edge, the local runtime and the environment.
    files: ["domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [azurePackages, { group: ["**/functions/**"], message: "domain/ never imports functions/." }, localRuntime] },
      ],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "domain/ receives settings; it never reads process.env." }],
    },
  },
  {
    files: ["functions/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [localRuntime] }] },
  },
  {
    // A subscription handler runs inside its batch's inbox transaction: a query on the pool there takes a second
    // connection while the first is held, and a few concurrent batches then wait on each other for good.
    files: ["functions/events/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "MemberExpression[property.name='db'][object.property.name='database']", message: "Use the handler's transaction (ctx.tx), never the pool, inside a subscription handler." },
      ],
    },
  },
  {
    // The app's tests and benchmarks use the runtime's services by its package name (its exports map).
    files: ["tests/**/*.ts", "bench/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/packages/**"], message: "Import a workspace package by its name (@ringlet/local-runtime/...), not by a path into it." }] },
      ],
    },
  },
  {
    // The local runtime hosts any function app through its package.json "main"; it knows nothing of Ringlet.
    files: ["packages/local-runtime/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/functions/**", "**/domain/**", "**/tests/**", "**/bench/**"],
              message: "The local runtime loads the app through package.json \"main\", never by import.",
            },
          ],
        },
      ],
    },
  },
);
