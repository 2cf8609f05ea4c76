import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// The web app: built into dist/web (served by the static-files function locally, by Static Web Apps in Azure).
export default defineConfig({
  root,
  base: "/",
  // Preact's JSX through Vite's own transform (no Babel, no plugin).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script: every script is a file, and small assets stay files too.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: "es2022",
  },
  // `npx vite --config web/vite.config.ts` for development: the API answers from the running app.
  server: { proxy: { "/api": "http://localhost:7071" } },
});
