// Writes tests/support/long-test-files.json from a run's JSON report (.test-results.json, which `CI=true npm test`
// writes): the files that took 15 s or more, with their seconds. tests/support/sequencer.ts starts them first, so
// that a fresh clone, with no vitest cache, does not leave a long file to run alone at the end.
import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const report = JSON.parse(readFileSync(resolve(process.argv[2] ?? ".test-results.json"), "utf8"));
const root = resolve(process.argv[3] ?? ".");
const files = Object.fromEntries(
  report.testResults
    .map((file) => [relative(root, file.name), Math.round((file.endTime - file.startTime) / 1000)])
    .filter(([, seconds]) => seconds >= 15)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b)),
);
writeFileSync("tests/support/long-test-files.json", `${JSON.stringify(files, null, 2)}\n`);
console.log(`${Object.keys(files).length} files of 15 s or more`);
