import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The order files start in. Vitest's own runs its projects one after another, each's files longest first by its
// cache, or largest first without one, as in a fresh clone (CI): there the domain project came last and its one long
// file (the ledger property test, 35-50 s) started at ~415 s and ran alone to the end, with three workers idle.
// So the long files start first, whatever their project: the browser files (their budget is the span from the
// first's start to the last's end, so they stay together at the front), then the other long ones, longest first;
// then the rest as vitest orders them. "Long" is what the vitest cache says once a file has run here, or else
// tests/support/long-test-files.json (written from a CI run's report by scripts/record-long-tests.mjs).
// Putting a file of a shared (isolate: false) project out of its project's run costs one worker start (~2 s).
const LONG_MS = 15_000;
const recorded = JSON.parse(readFileSync(new URL("./long-test-files.json", import.meta.url), "utf8")) as Record<string, number>;

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Each file's path and expected time, looked up once rather than in every comparison.
    const known = new Map(
      files.map((spec) => {
        const path = relative(this.ctx.config.root, spec.moduleId);
        const ms = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration ?? (recorded[path] ?? 0) * 1000;
        return [spec, { ms, browser: path.startsWith("tests/browser/") }];
      }),
    );
    const info = (spec: TestSpecification) => known.get(spec) as { ms: number; browser: boolean };
    const byExpected = (a: TestSpecification, b: TestSpecification) => info(b).ms - info(a).ms;
    const browser = files.filter((spec) => info(spec).browser).sort(byExpected);
    const long = files.filter((spec) => !info(spec).browser && info(spec).ms >= LONG_MS).sort(byExpected);
    const rest = await super.sort(files.filter((spec) => !info(spec).browser && info(spec).ms < LONG_MS));
    return [...browser, ...long, ...rest];
  }
}
