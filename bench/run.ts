// bench/run: every bench in turn, each in a child process of its own and never two at once (they would measure
// each other), the figures each records (BENCH_RESULTS_FILE, see recordResults in environment.ts) collected
// into bench/results.json beside the machine they were measured on, and one summary table with the verdicts.
// Usage: npm run bench                       every bench at its full counts
//        npm run bench -- --quick            smaller counts (a few minutes): before resolving a hot-path issue
//        npm run bench -- --only http,events  some of them (combines with --quick)
// A knob already set in the environment (e.g. BENCH_EVENTS=5000) wins over --quick's value.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchResult, preparePostgresTemplate, printTable, root } from "./environment.js";

/** In the order they run: the cheap ones first, so a broken build shows in seconds. */
const benches = ["http", "login", "enrollment", "grading", "activity", "events", "imports", "attendance", "announcements", "finance"] as const;
type Bench = (typeof benches)[number];

/** --quick: each bench's own knobs turned down, and deadlines short enough that a stuck bench cannot eat the budget. */
const quickKnobs: Record<Bench, Record<string, string>> = {
  http: { BENCH_SECONDS: "3" },
  login: { BENCH_LOGINS: "10" },
  enrollment: { BENCH_LEARNERS: "500", BENCH_SECONDS: "3", BENCH_DEADLINE_S: "30" },
  grading: { BENCH_SUBMISSIONS: "300", BENCH_DEADLINE_S: "30", BENCH_STALL_S: "10" },
  activity: { BENCH_STATEMENTS: "500" },
  events: { BENCH_EVENTS: "2000", BENCH_DEADLINE_S: "30", BENCH_STALL_S: "10" },
  imports: { BENCH_IMPORT_ROWS: "2000", BENCH_DEADLINE_S: "60" },
  attendance: { BENCH_LEARNERS: "300", BENCH_TAKES: "5", BENCH_SECONDS: "3", BENCH_DEADLINE_S: "60" },
  // quick: 1,000 learners instead of 5,000 (the 30 s target is for 5,000: the full run says whether it holds)
  announcements: { BENCH_LEARNERS: "1000", BENCH_SECONDS: "2", BENCH_DEADLINE_S: "60" },
  finance: { BENCH_ENROLLMENTS: "200", BENCH_DEADLINE_S: "60" },
};
/** A bench still running after this is stopped (with everything it started) and reported as timed out. */
const timeoutSeconds = { quick: 150, full: 1_200 };

interface BenchRun {
  bench: Bench;
  status: "ok" | "no figures" | "failed" | "timed out";
  exitCode: number | null;
  seconds: number;
  /** 1-minute load average when the bench started: above the cpu count, other work shared the machine. */
  loadAverage: number;
  knobs: Record<string, string>;
  error?: string;
}

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, only: { type: "string" } } });
const mode = values.quick ? "quick" : "full";
const chosen = values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : [...benches];
const unknown = chosen.filter((b) => !(benches as readonly string[]).includes(b));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(", ")}; there are: ${benches.join(", ")}`);
  process.exit(2);
}
const selected = benches.filter((b) => chosen.includes(b));

const git = (...args: string[]): string => {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
};
const outputFile = join(root, "bench", "results.json");
const scratch = await mkdtemp(join(tmpdir(), "ringlet-bench-run-"));
await chmod(scratch, 0o755); // the template cluster inside is read by the OS user "postgres" when run as root
const startedAt = new Date();
const runs: BenchRun[] = [];
const figures: BenchResult[] = [];
let current: ChildProcess | undefined;

/** Stops a bench and what it started (servers, PostgreSQL, Azurite): it leads a process group of its own. */
function stopGroup(child: ChildProcess): void {
  const signal = (s: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  setTimeout(() => signal("SIGKILL"), 10_000).unref();
}

// The benches run detached (so that a timeout can stop a whole group), so Ctrl-C has to be passed on by hand.
for (const s of ["SIGINT", "SIGTERM"] as const) {
  process.on(s, () => {
    if (current) stopGroup(current);
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
}

function writeResults(): void {
  const results = {
    date: startedAt.toISOString(),
    mode,
    commit: git("rev-parse", "HEAD") || null,
    uncommittedChanges: git("status", "--porcelain", "--untracked-files=no") !== "",
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    loadAverageAtStart: loadavg()[0],
    runs,
    figures,
  };
  writeFileSync(outputFile, `${JSON.stringify(results, null, 2)}\n`);
}

async function runOne(bench: Bench, index: number): Promise<void> {
  const resultsFile = join(scratch, `${bench}.json`);
  const knobs = Object.fromEntries(Object.entries(values.quick ? quickKnobs[bench] : {}).filter(([name]) => process.env[name] === undefined));
  const load = loadavg()[0] ?? 0;
  console.log(`\n=== bench/${bench} (${index + 1} of ${selected.length}, ${mode}${Object.keys(knobs).length ? `: ${Object.entries(knobs).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}) ===`);
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", join("bench", `${bench}.ts`)], {
    cwd: root,
    env: { ...process.env, ...knobs, BENCH_RESULTS_FILE: resultsFile, BENCH_PG_TEMPLATE: template },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  current = child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`bench/${bench}: still running after ${timeoutSeconds[mode]} s; stopping it`);
    stopGroup(child);
  }, timeoutSeconds[mode] * 1000);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(null));
    child.on("exit", (code) => resolve(code));
  });
  clearTimeout(timer);
  current = undefined;

  let recorded: BenchResult[] = [];
  let error: string | undefined;
  if (existsSync(resultsFile)) {
    try {
      recorded = JSON.parse(readFileSync(resultsFile, "utf8")) as BenchResult[];
      if (!Array.isArray(recorded)) throw new Error("not an array");
    } catch (err) {
      error = `unreadable figures: ${(err as Error).message}`;
      recorded = [];
    }
  }
  figures.push(...recorded);
  const status: BenchRun["status"] = timedOut ? "timed out" : exitCode !== 0 ? "failed" : recorded.length === 0 ? "no figures" : "ok";
  runs.push({ bench, status, exitCode, seconds: Math.round((performance.now() - started) / 100) / 10, loadAverage: Math.round(load * 100) / 100, knobs, ...(error ? { error } : {}) });
  writeResults(); // after every bench, so an interrupted run keeps what it measured
}

const template = join(scratch, "pg-template");
try {
  console.log("preparing a migrated PostgreSQL cluster for the benches to copy");
  await preparePostgresTemplate(template);
  for (const [i, bench] of selected.entries()) await runOne(bench, i);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const shown = (n: number | null) => (n === null ? "-" : Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 2));
const rows: string[][] = [];
for (const run of runs) {
  const own = figures.filter((f) => f.bench === run.bench);
  if (run.status !== "ok") rows.push([run.bench, `(${run.status}${run.exitCode ? `, exit ${run.exitCode}` : ""}${run.error ? `, ${run.error}` : ""})`, "", "", "", "", run.status === "no figures" ? "no figures" : "FAILED"]);
  for (const f of own) {
    rows.push([f.bench, f.measure, `${shown(f.value)} ${f.unit}`, shown(f.floor), f.ratio === null ? "-" : `${f.ratio.toFixed(2)}x`, f.target || "-", f.met === null ? "-" : f.met ? "met" : "NOT MET"]);
  }
}
const seconds = (Date.now() - startedAt.getTime()) / 1000;
const withTarget = figures.filter((f) => f.met !== null);
const busy = runs.filter((r) => r.loadAverage > availableParallelism());
console.log(`\n=== npm run bench${values.quick ? " -- --quick" : ""}: ${runs.length} benches in ${seconds.toFixed(0)} s, node ${process.version}, ${availableParallelism()} cpus, commit ${git("rev-parse", "--short", "HEAD") || "?"} ===\n`);
printTable(["bench", "measure", "value", "floor", "ratio", "target", "verdict"], rows);
console.log(`\n${withTarget.filter((f) => f.met).length} of ${withTarget.length} targets met; ${runs.filter((r) => r.status !== "ok").length} benches without figures or failed.`);
if (busy.length > 0) console.log(`The machine was busy (1-minute load above ${availableParallelism()}) when ${busy.map((r) => r.bench).join(", ")} started: compare ratios to floors, not absolute figures.`);
console.log(`Figures written to ${outputFile}`);
process.exitCode = runs.some((r) => r.status === "failed" || r.status === "timed out") ? 1 : 0;
