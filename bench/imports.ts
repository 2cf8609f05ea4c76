// bench/imports: one CSV of new people (each row a new user with a name, into a few courses with sections) uploaded
// and imported for real through the local runtime (upload URL, start, the bulk-imports queue, the orchestration's
// batches), polled to completion; then the same file imported again, which must change nothing. Beside it, the
// floor measured in the same run: the same number of users and enrollments written straight to PostgreSQL from
// this process in multi-row inserts (no parsing, validation, staging, outcomes or invitations).
// Usage: npm run bench:imports            (-- --quick: 2,000 rows)
//   BENCH_IMPORT_ROWS (50000), BENCH_IMPORT_COURSES (5), BENCH_IMPORT_KIND (enrollments; users when the enrollments
//   kind is not available, or when set), BENCH_DEADLINE_S (600), BENCH_RUNTIME_NODE_ARGS (e.g. "--cpu-prof
//   --cpu-prof-dir=/tmp/prof" to profile the runtime), BENCH_SAMPLE_WAITS=1 (where PostgreSQL sessions wait).
// The runtime runs in the deployed shape (as npm start): a main host (APP_ROLE=main: the API, the events) and the
// import worker as its second host process (APP_ROLE=import-worker), which applies the file. A one-row import first
// warms the worker up (and waits for it to be up), untimed.
// Targets (issue 16): 50,000 rows (50,000 users + 50,000 enrollments) in < 90 s, the import worker's process under
// 256 MB RSS at its peak (the main host's peak is printed beside it), and the second import all unchanged. With BENCH_RESULTS_FILE set, the figures are
// written there as JSON.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchApi, benchEnvironment, mintAccessToken, printSamples, printTable, recordResults, runtimeCli, sampleAuth, sampleSessions } from "./environment.js";

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const rowsWanted = Number(process.env.BENCH_IMPORT_ROWS ?? (flags.quick ? 2_000 : 50_000));
const courseCount = Number(process.env.BENCH_IMPORT_COURSES ?? 5);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 600);
const kindWanted = process.env.BENCH_IMPORT_KIND ?? "enrollments";
const runtimeNodeArgs = (process.env.BENCH_RUNTIME_NODE_ARGS ?? "").split(" ").filter(Boolean);
// BENCH_SAMPLE_WAITS=1: what the runtime's PostgreSQL sessions do during the first import, sampled every 20 ms.
const sampleWaits = process.env.BENCH_SAMPLE_WAITS === "1";
const SECTIONS_PER_COURSE = 4;
const targetSeconds = 90;
const targetRssMb = 256;

interface ImportBody {
  id: string;
  status: string;
  rowsRead: number;
  rowsApplied: number;
  rowsFailed: number;
  rowsSkipped: number;
  counts: Record<string, { created: number; updated: number; unchanged: number; failed: number; skipped: number }>;
  refusalReason: string | null;
}

/** The runtime's resident set now and at its peak (VmRSS, VmHWM), in MB; undefined off Linux. */
function rssMb(pid: number | undefined): { now: number; peak: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { now: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

/** The import worker: the runtime's child process that runs `start` (its --with-host host), found under /proc. */
function workerPidOf(runtimePid: number | undefined): number | undefined {
  if (runtimePid === undefined) return undefined;
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== runtimePid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes("start")) return Number(entry);
    } catch {
      // ended while we looked, or not Linux
    }
  }
  return undefined;
}

/** Samples a process's RSS every 100 ms (VmHWM covers what falls between samples). */
function sampleRss(pid: number | undefined) {
  let peak = 0;
  // A process that went away (the worker restarted after a crash, e.g. out of heap) would read low: it is fatal.
  const read = () => {
    if (pid !== undefined && existsSync("/proc/self/status") && rssMb(pid) === undefined) throw new Error(`process ${pid} went away while the import ran (see "Host 2 exited unexpectedly" in the runtime's output)`);
    return rssMb(pid);
  };
  let gone: Error | undefined;
  const timer = setInterval(() => {
    try {
      const rss = read();
      if (rss) peak = Math.max(peak, rss.now, rss.peak);
    } catch (err) {
      gone ??= err as Error;
    }
  }, 100);
  return {
    stop(): number {
      clearInterval(timer);
      if (gone) throw gone;
      const rss = read();
      return Math.max(peak, rss?.now ?? 0, rss?.peak ?? 0);
    },
  };
}

const csvFor = (kind: string, courses: { code: string; sections: string[] }[], label: string): string => {
  const lines = kind === "users" ? ["email,name,locale"] : ["course,email,name,role,section"];
  for (let i = 0; i < rowsWanted; i++) {
    const email = `${label}-${i}@bench.example`;
    const name = `Learner ${i}`;
    if (kind === "users") lines.push(`${email},${name},${i % 10 === 0 ? "es" : "en"}`);
    else {
      const course = courses[i % courses.length] as { code: string; sections: string[] };
      lines.push(`${course.code},${email},${name},learner,${course.sections[i % course.sections.length]}`);
    }
  }
  return `${lines.join("\n")}\n`;
};

/** Uploads `csv` through an import's upload URL and starts it; answers the import's id, or null when the kind is not available. */
async function startImport(base: string, token: string, csv: string, kind: string): Promise<string | null> {
  const bytes = Buffer.from(csv, "utf8");
  const created = await benchApi(base, "POST", "/v1/imports", token, { fileName: `bench-${kind}.csv`, contentType: "text/csv", sizeBytes: bytes.length });
  const upload = created.upload as { url: string; headers: Record<string, string> };
  const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes });
  if (put.status >= 300) throw new Error(`the upload answered ${put.status}: ${await put.text()}`);
  const id = created.id as string;
  const res = await fetch(`${base}/api/v1/imports/${id}/start`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": uuidv7() },
    body: JSON.stringify({ kind, dryRun: false }),
  });
  const text = await res.text();
  if (res.status === 422 && text.includes("IMPORT_KIND_UNAVAILABLE")) return null;
  if (res.status >= 300) throw new Error(`start answered ${res.status}: ${text}`);
  return id;
}

/** Polls the import until it ended (or the deadline); answers it and the seconds from start to end. */
async function waitForImport(base: string, token: string, id: string, started: number): Promise<{ body: ImportBody; seconds: number }> {
  const deadline = started + deadlineSeconds * 1000;
  let last = "";
  for (;;) {
    const body = (await benchApi(base, "GET", `/v1/imports/${id}`, token)) as unknown as ImportBody;
    if (["completed", "failed", "cancelled"].includes(body.status)) return { body, seconds: (performance.now() - started) / 1000 };
    const line = `${body.status} ${body.rowsApplied + body.rowsFailed + body.rowsSkipped}/${body.rowsRead}`;
    if (line !== last) process.stderr.write(`  import ${id.slice(-6)}: ${line} at ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    last = line;
    if (performance.now() > deadline) throw new Error(`import ${id} still ${body.status} after ${deadlineSeconds} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The floor: as many users and enrollments written straight to PostgreSQL, 1,000 rows a statement. */
async function floorSeconds(sql: postgres.Sql, courseIds: string[], withEnrollments: boolean): Promise<number> {
  const started = performance.now();
  const stamp = new Date().toISOString();
  for (let i = 0; i < rowsWanted; i += 1_000) {
    const users = Array.from({ length: Math.min(1_000, rowsWanted - i) }, (_, j) => ({ id: uuidv7(), email: `floor-${i + j}@bench.example`, display_name: `Floor ${i + j}`, created_at: stamp, updated_at: stamp }));
    await sql`insert into users ${sql(users, "id", "email", "display_name", "created_at", "updated_at")} on conflict (email) do nothing`;
    if (withEnrollments) {
      const enrollments = users.map((u, j) => ({ id: uuidv7(), course_id: courseIds[(i + j) % courseIds.length] as string, user_id: u.id, status: "active", source: "import", enrolled_at: stamp, created_at: stamp, updated_at: stamp }));
      await sql`insert into enrollments ${sql(enrollments, "id", "course_id", "user_id", "status", "source", "enrolled_at", "created_at", "updated_at")}`;
    }
  }
  return (performance.now() - started) / 1000;
}

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const runtime = await bench.serve([...runtimeNodeArgs, runtimeCli, "start", "--set", "APP_ROLE=main", "--with-host", "APP_ROLE=import-worker,languageWorkers__node__arguments=--max-old-space-size=128"], "/api/health", { ...sampleAuth });
  const runtimePid = bench.pidOf(runtime);
  const workerPid = workerPidOf(runtimePid);
  if (runtimePid !== undefined && workerPid === undefined) throw new Error("the import worker's process was not found under the runtime's");

  const adminId = uuidv7();
  await sql`insert into users (id, email, display_name, is_admin, email_verified_at) values (${adminId}, ${`bench-admin-${adminId.slice(-12)}@example.test`}, 'Bench admin', true, now())`;
  const token = await mintAccessToken(adminId);

  // A few published courses with codes and sections, through the API (the kinds resolve courses by code).
  const courses: { id: string; code: string; sections: string[] }[] = [];
  for (let c = 0; c < courseCount; c++) {
    const code = `BENCH-${100 + c}`;
    const course = await benchApi(runtime, "POST", "/v1/courses", token, { title: `Bench course ${c}`, code, capacity: rowsWanted });
    const id = course.id as string;
    await benchApi(runtime, "POST", `/v1/courses/${id}/publish`, token);
    const sections: string[] = [];
    for (let s = 0; s < SECTIONS_PER_COURSE; s++) {
      const name = `Section ${String.fromCharCode(65 + s)}`;
      await benchApi(runtime, "POST", `/v1/courses/${id}/sections`, token, { name });
      sections.push(name);
    }
    courses.push({ id, code, sections });
  }

  // Untimed: one row through the worker, so the timed import neither waits for it to start nor pays its warm-up.
  const warmUpId = await startImport(runtime, token, "email,name,locale\nwarmup-0@bench.example,Warm Up,en\n", "users");
  if (warmUpId === null) throw new Error("the users kind is not available");
  const warmUp = await waitForImport(runtime, token, warmUpId, performance.now());
  if (warmUp.body.status !== "completed") throw new Error(`the warm-up import ended ${warmUp.body.status}`);

  let kind = kindWanted;
  let csv = csvFor(kind, courses, "import");
  const rssBefore = rssMb(workerPid);
  let rss = sampleRss(workerPid);
  let mainRss = sampleRss(runtimePid);
  const sampling = sampleWaits ? sampleSessions(sql) : undefined;
  let started = performance.now();
  let importId = await startImport(runtime, token, csv, kind);
  if (importId === null && kind !== "users") {
    console.error(`bench/imports: the ${kind} kind is not available; importing a ${rowsWanted}-row users file instead`);
    kind = "users";
    csv = csvFor(kind, courses, "import");
    started = performance.now();
    importId = await startImport(runtime, token, csv, kind);
  }
  if (importId === null) throw new Error(`the ${kind} kind is not available`);
  const first = await waitForImport(runtime, token, importId, started);
  const peakRss = rss.stop();
  const peakMainRss = mainRss.stop();
  if (sampling) printSamples(await sampling.stop(), "during the first import");

  // The same file again: every row unchanged.
  rss = sampleRss(workerPid);
  mainRss = sampleRss(runtimePid);
  const againStarted = performance.now();
  const againId = await startImport(runtime, token, csv, kind);
  if (againId === null) throw new Error(`the ${kind} kind is not available any more`);
  const second = await waitForImport(runtime, token, againId, againStarted);
  const peakRssAgain = rss.stop();
  const peakMainRssAgain = mainRss.stop();

  const floor = await floorSeconds(sql, courses.map((c) => c.id), kind !== "users");
  const [counts] = await sql<{ users: number; enrollments: number; invitations: number; emails_pending: number }[]>`
    select (select count(*)::int from users where email like 'import-%@bench.example') as users,
           (select count(*)::int from enrollments e join users u on u.id = e.user_id where u.email like 'import-%@bench.example') as enrollments,
           (select count(*)::int from account_tokens where purpose = 'account-invitation' and email like 'import-%@bench.example') as invitations,
           (select count(*)::int from email_deliveries where template = 'account-invitation' and status = 'pending') as emails_pending`;
  await sql.end();

  const total = (b: ImportBody, result: "created" | "updated" | "unchanged" | "failed" | "skipped") => Object.values(b.counts).reduce((a, c) => a + c[result], 0);
  const changedAgain = total(second.body, "created") + total(second.body, "updated");
  const entities = (b: ImportBody) =>
    Object.entries(b.counts)
      .map(([entity, c]) => `${entity}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.failed} failed`)
      .join("; ");
  console.log(`\nbench/imports: a ${rowsWanted}-row ${kind} file (${(Buffer.byteLength(csv) / 1e6).toFixed(1)} MB) into ${courseCount} courses, node ${process.version}\n`);
  printTable(
    ["measure", "first import", "same file again"],
    [
      ["status", first.body.status, second.body.status],
      ["rows read / applied / failed", `${first.body.rowsRead} / ${first.body.rowsApplied} / ${first.body.rowsFailed}`, `${second.body.rowsRead} / ${second.body.rowsApplied} / ${second.body.rowsFailed}`],
      ["outcomes", entities(first.body), entities(second.body)],
      ["upload to completion", `${first.seconds.toFixed(1)} s`, `${second.seconds.toFixed(1)} s`],
      ["rows/s", (rowsWanted / first.seconds).toFixed(0), (rowsWanted / second.seconds).toFixed(0)],
      ["import worker peak RSS", `${peakRss.toFixed(0)} MB (${rssBefore ? `${rssBefore.now.toFixed(0)} MB before` : "?"})`, `${peakRssAgain.toFixed(0)} MB`],
      ["main host peak RSS", `${peakMainRss.toFixed(0)} MB`, `${peakMainRssAgain.toFixed(0)} MB`],
    ],
  );
  console.log(`\nfloor: ${rowsWanted} users${kind === "users" ? "" : ` + ${rowsWanted} enrollments`} inserted straight, 1,000 a statement: ${floor.toFixed(1)} s`);
  console.log(`in the database: ${counts?.users} imported users, ${counts?.enrollments} enrollments, ${counts?.invitations} invitations, ${counts?.emails_pending} invitation emails not yet sent\n`);

  recordResults("imports", [
    { measure: `imports: ${rowsWanted}-row ${kind} file, upload to completion`, value: first.seconds, unit: "s", floor, target: `< ${Number(((targetSeconds * rowsWanted) / 50_000).toFixed(1))}` },
    { measure: "imports: rows per second", value: rowsWanted / first.seconds, unit: "rows/s" },
    { measure: "imports: import worker peak RSS", value: peakRss, unit: "MB", target: `< ${targetRssMb}` },
    { measure: "imports: main host peak RSS (information)", value: peakMainRss, unit: "MB" },
    { measure: "imports: rows failed (first import)", value: first.body.rowsFailed + first.body.rowsSkipped, unit: "rows", target: "= 0" },
    { measure: "imports: users the first import created (in the database)", value: counts?.users ?? 0, unit: "users", target: `= ${rowsWanted}` },
    { measure: "imports: invitations the first import issued (in the database)", value: counts?.invitations ?? 0, unit: "invitations", target: `= ${rowsWanted}` },
    { measure: "imports: same file again, rows created or updated", value: changedAgain, unit: "rows", target: "= 0" },
    { measure: "imports: same file again, upload to completion", value: second.seconds, unit: "s" },
  ]);
} finally {
  await bench.close();
}
