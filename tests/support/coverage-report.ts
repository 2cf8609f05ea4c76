// Merges the two halves of a coverage run and holds the floor: the test processes' coverage (vitest's
// coverage-final.json, already in TypeScript terms) and the raw V8 coverage the runtime child processes
// wrote to coverage/v8-children (the app's bundle in dist/functions and packages/local-runtime/dist/*.js, mapped
// back to the TypeScript through the source maps).
// Prints a summary, writes coverage/lcov.info and the HTML report in coverage/lcov-report/, and exits 1
// when domain/ or functions/ falls below its floor. Run after `vitest run` with coverage on (CI=true).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import libCoverage from "istanbul-lib-coverage";
import libReport from "istanbul-lib-report";
import reports from "istanbul-reports";
import v8ToIstanbul from "v8-to-istanbul";
import type { Profiler } from "node:inspector";

const repoRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");
const coverageDir = join(repoRoot, "coverage");
const childrenDir = join(coverageDir, "v8-children");
// The measured source folders, and the folders their builds land in (domain/ is bundled with functions/).
const measured = ["domain", "functions", "packages/local-runtime/src"];
const buildUrls = ["dist/functions", "packages/local-runtime/dist"].map((build) => pathToFileURL(join(repoRoot, build)).href + "/");

// Lines, in percent: the whole suite reached 98.05 and 94.69 when this gate came in (issue 14 asks for at
// least 80). The floors sit two points lower: lines that run only when a race goes one way (a concurrent
// delivery, a retried conflict) come and go between runs, and a floor they can cross is a flaky build.
// Raise them as tests are added.
const floors: Record<string, number> = { domain: 96, functions: 92 };

interface ProcessCov {
  result: Profiler.ScriptCoverage[];
}
// @bcoe/v8-coverage ships no types; this is the one function used (the merge c8 does).
const { mergeProcessCovs } = createRequire(import.meta.url)("@bcoe/v8-coverage") as {
  mergeProcessCovs(covs: ProcessCov[]): ProcessCov;
};

const vitestJson = join(coverageDir, "vitest", "coverage-final.json");
if (!existsSync(vitestJson)) {
  console.error(`${vitestJson} is missing: run vitest with coverage on (CI=true or COVERAGE=1) first.`);
  process.exit(1);
}
const map = libCoverage.createCoverageMap(JSON.parse(readFileSync(vitestJson, "utf8")) as libCoverage.CoverageMapData);

// Merging the processes' raw coverage per script first maps each dist file once, not once per process.
let children: ProcessCov = { result: [] };
const unreadable: string[] = [];
for (const name of existsSync(childrenDir) ? readdirSync(childrenDir) : []) {
  let raw: ProcessCov;
  try {
    raw = JSON.parse(readFileSync(join(childrenDir, name), "utf8")) as ProcessCov;
  } catch {
    // A runtime a test stopped hard while V8 was writing its coverage leaves a cut-off file: its lines are lost,
    // as a killed process's are; the rest of the run still counts.
    unreadable.push(name);
    continue;
  }
  const ours = raw.result.filter((s) => buildUrls.some((url) => s.url.startsWith(url)));
  children = mergeProcessCovs([children, { result: ours }]);
}
// v8-to-istanbul counts every source line (imports, types and comments included) as a statement, where
// vitest counts the statements of the syntax tree; a plain merge would pad the denominator with lines
// that are "covered" as soon as the module loads. So the children's hits are added to vitest's map,
// the one the report counts: a statement or function is hit where the children ran the line it starts
// on. Branches stay the test processes' alone: V8's block ranges do not match the syntax tree's.
for (const script of children.result) {
  const converter = v8ToIstanbul(fileURLToPath(script.url));
  await converter.load();
  converter.applyCoverage(script.functions);
  for (const [file, data] of Object.entries(converter.toIstanbul())) {
    // Only sources that vitest measures too (its include list lists every file, run or not).
    if (!map.data[file]) continue;
    const child = libCoverage.createFileCoverage(data);
    const lineHits = child.getLineCoverage();
    const callsByLine = new Map<number, number>();
    for (const [id, fn] of Object.entries(child.fnMap)) callsByLine.set(fn.loc.start.line, (callsByLine.get(fn.loc.start.line) ?? 0) + (child.f[id] ?? 0));
    const target = map.fileCoverageFor(file).data;
    for (const [id, loc] of Object.entries(target.statementMap)) target.s[id] = (target.s[id] ?? 0) + (lineHits[loc.start.line] ?? 0);
    for (const [id, fn] of Object.entries(target.fnMap)) target.f[id] = (target.f[id] ?? 0) + (callsByLine.get(fn.loc.start.line) ?? 0);
  }
  converter.destroy();
}

const context = libReport.createContext({ dir: coverageDir, coverageMap: map, defaultSummarizer: "nested" });
reports.create("lcov").execute(context);
reports.create("text-summary").execute(context);

let failed = false;
if (unreadable.length > 0) console.log(`Left out ${unreadable.length} cut-off runtime coverage file(s) (a process stopped while writing): ${unreadable.join(", ")}`);
console.log(`Lines by folder (${children.result.length} scripts from ${existsSync(childrenDir) ? readdirSync(childrenDir).length : 0} runtime processes merged):`);
for (const dir of measured) {
  const summary = libCoverage.createCoverageSummary();
  for (const file of map.files()) if (relative(repoRoot, file).split(sep).join("/").startsWith(`${dir}/`)) summary.merge(map.fileCoverageFor(file).toSummary());
  const pct = summary.lines.pct;
  const floor = floors[dir];
  const verdict = floor === undefined ? "" : pct >= floor ? `(floor ${floor}%)` : `BELOW the floor of ${floor}%`;
  if (floor !== undefined && pct < floor) failed = true;
  console.log(`  ${`${dir}/`.padEnd(28)} ${String(pct).padStart(6)}%  ${summary.lines.covered}/${summary.lines.total}  ${verdict}`);
}
console.log(`Report: ${relative(repoRoot, join(coverageDir, "lcov-report", "index.html"))}`);
process.exitCode = failed ? 1 : 0;
