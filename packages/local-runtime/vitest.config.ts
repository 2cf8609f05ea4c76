import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Many files start a runtime process (dist/cli.js) of their own, with its backing services.
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
