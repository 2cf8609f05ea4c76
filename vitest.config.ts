import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";
import LongFilesFirst from "./tests/support/sequencer.js";

// Coverage is on in CI (GitHub's) and with COVERAGE=1; off by default locally, where it only costs time, and with
// COVERAGE=0, as .ci/run asks (it costs a whole run ~160 s of CPU, ~80 s on two cores).
const coverage = process.env.COVERAGE ? process.env.COVERAGE !== "0" : Boolean(process.env.CI);
// The runtime child processes the tests start (packages/local-runtime/dist/cli.js hosting dist/functions or
// a fixture app) run outside vitest: they inherit NODE_OPTIONS from the test workers, load
// tests/support/child-coverage.mjs and write raw V8 coverage of the repository's scripts here, which
// tests/support/coverage-report.ts maps back to the TypeScript through the source maps. (NODE_V8_COVERAGE did
// the same but wrote every script and every loaded source map, ~14 MB a process, and cost each runtime ~0.4 s of
// CPU more from start to stop: 2.44 vs 2.07 s, five starts each.)
const childCoverageDir = resolve("coverage/v8-children");
if (coverage) rmSync(childCoverageDir, { recursive: true, force: true });
const childCoverage = `--import=${pathToFileURL(resolve("tests/support/child-coverage.mjs")).href}`;
const childEnv = coverage ? { RINGLET_CHILD_COVERAGE: childCoverageDir, NODE_OPTIONS: [process.env.NODE_OPTIONS, childCoverage].filter(Boolean).join(" ") } : {};

const sharedModuleTests = ["tests/domain/**/*.test.ts", "tests/unit/**/*.test.ts"];
// Files that drive a runtime process over HTTP and import only the support helpers and pure modules: nothing of
// theirs lives in the test worker between files, so they too share one module graph per worker (each isolated
// file paid a fresh fork and ~2-3 s of imports before its first test under load).
const sharedAppTests = ["tests/e2e/**/*.test.ts", "tests/functions/http/**/*.test.ts"];

export default defineConfig({
  // Test files import workspace packages as their TypeScript sources (the condition their package.json
  // exports them under, as in tsconfig.json; the rest are vitest's defaults for Node). The global setup runs
  // in vitest's own environment, which takes the packages' build: `npm test` builds before vitest runs.
  ssr: { resolve: { conditions: ["@ringlet/source", "node", "development|production"] } },
  test: {
    // The app's tests, and the local runtime's own (its package's vitest.config.ts) in the same run.
    projects: [
      {
        extends: true,
        test: { name: "ringlet", include: ["tests/**/*.test.ts"], exclude: [...configDefaults.exclude, ...sharedModuleTests, ...sharedAppTests], globalSetup: ["tests/support/global-setup.ts"] },
      },
      { extends: true, test: { name: "ringlet-app", include: sharedAppTests, isolate: false, globalSetup: ["tests/support/global-setup.ts"] } },
      // Domain and unit tests run without per-file isolation: their workers keep the imported modules from file to
      // file. Each file opens its own database, none starts the app or changes process-wide state, so a fresh
      // module graph per file only cost time (tests/domain took 93 s isolated, 58 s shared, on two cores).
      { extends: true, test: { name: "ringlet-domain", include: sharedModuleTests, isolate: false, globalSetup: ["tests/support/global-setup.ts"] } },
      { extends: "./packages/local-runtime/vitest.config.ts", root: "packages/local-runtime", test: { name: "local-runtime", env: childEnv } },
    ],
    // The long files start first (see the sequencer).
    sequence: { sequencer: LongFilesFirst },
    // Each file gets its own database and, where it needs one, its own runtime process.
    pool: "forks",
    fileParallelism: true,
    // Four on two cores: the files wait on runtime processes, PostgreSQL and Chromium much of the time, and three
    // left ~14% of the CPU idle (a whole run: 518 s with three, 455 s with four and the runtimes' --no-opt).
    // The local runtime's project (packages/local-runtime/vitest.config.ts) must say the same, or vitest refuses.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // expect.poll's own default is 1 s: too short for a page or a worker on a loaded CI machine (four test workers
    // beside runtime processes and Chromium); a poll that needs longer names its own timeout.
    expect: { poll: { timeout: 5_000 } },
    // CI also writes a JSON report so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".test-results.json" }]] : ["default"],
    env: childEnv,
    coverage: {
      enabled: coverage,
      provider: "v8",
      include: ["domain/**/*.ts", "functions/**/*.ts", "packages/local-runtime/src/**/*.ts"],
      exclude: ["domain/db/migrations/**"],
      // Only the test processes' share; the summary, the report and the floor come from the merge.
      reporter: [["json", { file: "coverage-final.json" }]],
      reportsDirectory: "coverage/vitest",
      // A failing run still leaves a report to look at (CI uploads it either way).
      reportOnFailure: true,
    },
  },
});
