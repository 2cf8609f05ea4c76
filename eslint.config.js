import js from "@eslint/js";
import tseslint from "typescript-eslint";

const azurePackages = { group: ["@azure/*", "durable-functions"], message: "domain/ never imports Azure packages (docs/architecture.md, dependency rule)." };

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".local-data/**", "coverage/**", "domain/db/migrations/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "smart"],
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
        { patterns: [azurePackages, { group: ["**/functions/**", "**/local/**"], message: "domain/ never imports functions/ or local/." }] },
      ],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "domain/ receives settings; it never reads process.env." }],
    },
  },
  {
    // local/ hosts any function app through package.json "main"; it knows nothing of Ringlet.
    files: ["local/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/functions/**", "**/domain/**"], message: "local/ loads the app through package.json \"main\", never by import." }] },
      ],
    },
  },
);
