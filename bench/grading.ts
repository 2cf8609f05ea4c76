// bench/grading: submitted quizzes through the whole grading path on the local runtime: POST submit over real
// HTTP (submission.submitted in the outbox), relay → in-memory Service Bus → `grading` subscription → the
// gradeSubmission orchestration (one grading-auto activity: grade and record) → grade row + grade.published.
// Per submission: from the moment its submit response arrived to the grade.published row's created_at (the
// database's clock; same machine). Beside it, floors measured in the same run: the pure grading functions
// (scoreItems + finalGrade) called in-process, and the activity's domain read (gradeSubmission: snapshot from
// PostgreSQL + the pure functions) called directly against the same database. Prints a verdict per target.
// Usage: npm run bench:grading
//   BENCH_SUBMISSIONS (1000), BENCH_CONCURRENCY (50 requests in flight), BENCH_DEADLINE_S (180 s to wait for
//   grades), BENCH_STALL_S (30: stop waiting once nothing new was graded for that long); DATABASE_POOL_MAX (5);
//   BENCH_RESULTS_FILE (recordResults writes the verdicts there as JSON);
//   BENCH_RUNTIME_NODE_ARGS (node flags for the runtime process); BENCH_PROFILE_FILE (a .cpuprofile of the runtime
//   process covering only the measured phase, taken over the inspector; run with NODE_OPTIONS=--experimental-websocket
//   on Node 20).
import { writeFileSync } from "node:fs";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { gradeSubmission } from "../domain/grading/grade-submission.js";
import { openDatabase } from "../functions/platform/database.js";
import { databaseSettingsSchema, parseEnv } from "../functions/platform/settings.js";
import { freePort } from "@ringlet/local-runtime/ports";
import type { Answer } from "../domain/grading/items.js";
import { answersOf, mixedQuizItems, mixedQuizKeys, pureGrade } from "../tests/support/mixed-quiz.js";
import { benchApi, benchEnvironment, mintAccessToken, percentile, printTable, recordResults, runtimeCli, sampleAuth } from "./environment.js";

const wanted = Number(process.env.BENCH_SUBMISSIONS ?? 1000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 180);
const stallSeconds = Number(process.env.BENCH_STALL_S ?? 30);
const poolMax = process.env.DATABASE_POOL_MAX ?? "5";
const runtimeNodeArgs = (process.env.BENCH_RUNTIME_NODE_ARGS ?? "").split(" ").filter(Boolean);
const profileFile = process.env.BENCH_PROFILE_FILE;

const auth = sampleAuth;
const accessToken = mintAccessToken;

const items = mixedQuizItems;
const keys = mixedQuizKeys;

const api = benchApi;

/** Runs `work` over `inputs`, `concurrency` at a time; nothing new starts after `deadline` (epoch ms). */
async function bounded<T>(inputs: T[], deadline: number, work: (input: T, index: number) => Promise<void>): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, inputs.length) }, async () => {
      while (next < inputs.length && Date.now() < deadline) {
        const i = next++;
        await work(inputs[i] as T, i);
      }
    }),
  );
  return next;
}

/** A CPU profile of the runtime over the inspector protocol, so it covers the measured phase only. */
async function runtimeProfiler(inspectPort: number): Promise<{ stop(file: string): Promise<void> }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(target?.webSocketDebuggerUrl as string);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.onmessage = (m: MessageEvent) => {
    const reply = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply.result);
  };
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.start");
  return {
    async stop(file) {
      const { profile } = (await call("Profiler.stop")) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      socket.close();
    },
  };
}

const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const ms = (n: number) => `${n.toFixed(n < 10 ? 3 : 0)} ms`;
const p50p95 = (sorted: number[], digits = 0) => `${percentile(sorted, 50).toFixed(digits)} / ${percentile(sorted, 95).toFixed(digits)} ms`;

const bench = await benchEnvironment();
const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
try {
  const busPort = await freePort();
  const inspectPort = profileFile ? await freePort() : 0;
  if (profileFile) runtimeNodeArgs.push(`--inspect=127.0.0.1:${inspectPort}`);
  const runtime = await bench.serve([...runtimeNodeArgs, runtimeCli, "start"], "/api/health", {
    ...auth,
    DATABASE_POOL_MAX: poolMax,
    ServiceBusConnection: `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    LOCAL_SERVICEBUS_DATA: "memory",
    LOCAL_DURABLE_DATA: "memory",
    OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
  });

  // Staff and learners straight into the database (the KDF would dominate otherwise); the quiz through the API.
  const courseId = uuidv7();
  await sql`insert into courses (id, title, status, capacity, published_at) values (${courseId}, 'Bench: grading', 'published', ${wanted + 10}, now())`;
  const users = Array.from({ length: wanted + 1 }, (_, i) => {
    const id = uuidv7();
    return { id, email: `bench-grading-${i}-${id.slice(-12)}@example.test`, display_name: `Bench ${i}`, is_admin: i === 0 };
  });
  for (let i = 0; i < users.length; i += 1_000) await sql`insert into users ${sql(users.slice(i, i + 1_000), "id", "email", "display_name", "is_admin")}`;
  const [admin, ...learners] = users;
  const enrollments = learners.map((l) => ({ id: uuidv7(), course_id: courseId, user_id: l.id, status: "active", source: "self" }));
  for (let i = 0; i < enrollments.length; i += 1_000) await sql`insert into enrollments ${sql(enrollments.slice(i, i + 1_000), "id", "course_id", "user_id", "status", "source")}`;
  await sql`update enrollments set enrolled_at = now() where course_id = ${courseId}`;
  const adminToken = await accessToken(admin?.id as string);
  const quiz = await api(runtime, "POST", `/v1/courses/${courseId}/assessments`, adminToken, { title: "Bench quiz", kind: "quiz", items, keys });
  const quizId = quiz.id as string;
  const tokens = await Promise.all(learners.map((l) => accessToken(l.id)));

  // Attempts started and answered first, so the measured phase is submissions and grading only.
  const attempts: { id: string; token: string; answers: Record<string, Answer> }[] = [];
  const prepared = await bounded(tokens, Date.now() + deadlineSeconds * 1000, async (token, n) => {
    const attempt = await api(runtime, "POST", `/v1/assessments/${quizId}/attempts`, token);
    const answers = answersOf(n);
    await api(runtime, "PUT", `/v1/attempts/${attempt.id as string}/answers`, token, { answers });
    attempts.push({ id: attempt.id as string, token, answers });
  });
  if (prepared < wanted) console.warn(`only ${prepared} of ${wanted} attempts prepared before the deadline`);

  // The measured phase: submit with bounded concurrency, noting when each submit response arrived (wall clock,
  // comparable with the database's timestamps).
  const submittedAt = new Map<string, number>();
  const submitMs: number[] = [];
  let submitFailures = 0;
  // Database work per submission (pg_stat_database: the bench's own polling is a few statements a second).
  const dbStats = async () =>
    (await sql<{ commits: number; rows_read: number; inserted: number; updated: number }[]>`
      select xact_commit::float8 as commits, (tup_returned + tup_fetched)::float8 as rows_read, tup_inserted::float8 as inserted, tup_updated::float8 as updated
      from pg_stat_database where datname = current_database()`)[0];
  const dbBefore = await dbStats();
  const profiler = profileFile ? await runtimeProfiler(inspectPort) : undefined;
  const start = Date.now();
  const stopAt = start + deadlineSeconds * 1000;
  await bounded(attempts, stopAt, async (a) => {
    const t0 = performance.now();
    try {
      await api(runtime, "POST", `/v1/attempts/${a.id}/submit`, a.token);
      submitMs.push(performance.now() - t0);
      submittedAt.set(a.id, Date.now());
    } catch {
      submitFailures++;
    }
  });
  const submitsDone = Date.now();

  // Wait for grade.published (bounded: the deadline, or nothing new for `stallSeconds`).
  let graded = 0;
  let lastChange = Date.now();
  while (graded < submittedAt.size && Date.now() < stopAt && Date.now() - lastChange < stallSeconds * 1000) {
    const [c] = await sql<{ n: number }[]>`select count(*)::int as n from outbox where type = 'grade.published' and course_id = ${courseId}`;
    if ((c?.n ?? 0) !== graded) [graded, lastChange] = [c?.n ?? 0, Date.now()];
    await sleep(200);
  }
  if (profiler && profileFile) await profiler.stop(profileFile);
  await sql`select pg_stat_force_next_flush()`.catch(() => undefined);
  await sleep(1_100); // backends flush their counters at most once a second
  const dbAfter = await dbStats();
  const waitedFor = graded < submittedAt.size ? (Date.now() >= stopAt ? ` (deadline ${deadlineSeconds} s reached)` : ` (stalled: nothing new for ${stallSeconds} s)`) : "";

  const published = await sql<{ submission_id: string; at: number; percent: number }[]>`
    select aggregate_id as submission_id, (extract(epoch from created_at) * 1000)::float8 as at, (data->>'percent')::float8 as percent
    from outbox where type = 'grade.published' and course_id = ${courseId}`;
  const gradeRows = await sql<{ submission_id: string; versions: number; percent: number }[]>`
    select submission_id, count(*)::int as versions, min(percent)::float8 as percent from grades where assessment_id = ${quizId} group by submission_id`;
  const latencies: number[] = [];
  let lastGrade = start;
  for (const p of published) {
    const sent = submittedAt.get(p.submission_id);
    if (sent !== undefined) latencies.push(p.at - sent);
    if (p.at > lastGrade) lastGrade = p.at;
  }
  latencies.sort((a, b) => a - b);
  const wall = (lastGrade - start) / 1000;
  const bySubmission = new Map(attempts.map((a) => [a.id, a]));
  const wrongPercent = published.filter((p) => {
    const a = bySubmission.get(p.submission_id);
    return !a || pureGrade(a.answers, new Date()).percent !== p.percent;
  }).length;
  const publishedPerSubmission = new Set(published.map((p) => p.submission_id)).size;
  const multiVersion = gradeRows.filter((g) => g.versions !== 1).length;

  // Where the time goes, from the database's timestamps: submit commit → submission.submitted published (relay),
  // published → grade row (broker, trigger, orchestration start, two activities), grade row → grade.published row.
  const [phases] = await sql<Record<string, number | null>[]>`
    with p as (
      select extract(epoch from (s.published_at - s.created_at)) * 1000 as relay,
             extract(epoch from (g.created_at - s.published_at)) * 1000 as orchestrate
      from outbox s join grades g on g.submission_id::text = s.aggregate_id
      where s.type = 'submission.submitted' and s.course_id = ${courseId})
    select percentile_cont(0.5) within group (order by relay) as relay50, percentile_cont(0.95) within group (order by relay) as relay95,
           percentile_cont(0.5) within group (order by orchestrate) as orch50, percentile_cont(0.95) within group (order by orchestrate) as orch95
    from p`;

  // Floor 1: the pure functions, in-process, as many times as there were submissions (after a short warm-up).
  for (let n = 0; n < Math.min(200, wanted); n++) pureGrade(answersOf(n), new Date());
  const pureMs: number[] = [];
  const pureStart = performance.now();
  let checksum = 0;
  for (let n = 0; n < wanted; n++) {
    const t0 = performance.now();
    checksum += pureGrade(answersOf(n), new Date()).percent ?? 0;
    pureMs.push(performance.now() - t0);
  }
  const pureSeconds = (performance.now() - pureStart) / 1000;
  pureMs.sort((a, b) => a - b);

  // Floor 2: the load activity's own work (snapshot read + pure functions) against the same database, with the
  // runtime's pool size and the same concurrency, no bus or orchestration around it.
  const direct = openDatabase(parseEnv(databaseSettingsSchema, { DATABASE_URL: bench.databaseUrl }), { max: Number(poolMax) });
  await bounded(attempts.slice(0, concurrency), Date.now() + 60_000, async (a) => void (await gradeSubmission(direct.db, a.id)));
  const readMs: number[] = [];
  const readStart = performance.now();
  await bounded(attempts, Date.now() + deadlineSeconds * 1000, async (a) => {
    const t0 = performance.now();
    await gradeSubmission(direct.db, a.id);
    readMs.push(performance.now() - t0);
  });
  const readSeconds = (performance.now() - readStart) / 1000;
  readMs.sort((a, b) => a - b);
  await direct.close();

  const verdict = (ok: boolean) => (ok ? "ok" : "WRONG");
  submitMs.sort((a, b) => a - b);
  console.log(
    `\nbench/grading: ${wanted} objective quizzes (6 items) submitted through the local runtime, ${concurrency} submits in flight, runtime pool ${poolMax}, sweep every 1 s, node ${process.version}\n`,
  );
  printTable(
    ["path", "graded", "wall", "grades/s", "latency p50 / p95", "of floor"],
    [
      ["scoreItems + finalGrade, in-process (floor)", String(pureMs.length), `${(pureSeconds * 1000).toFixed(1)} ms`, (pureMs.length / pureSeconds).toFixed(0), p50p95(pureMs, 4), "1.00x"],
      [
        "gradeSubmission read from PostgreSQL, direct",
        String(readMs.length),
        `${readSeconds.toFixed(2)} s`,
        (readMs.length / readSeconds).toFixed(0),
        p50p95(readMs, 1),
        `${(readMs.length / readSeconds / (pureMs.length / pureSeconds)).toFixed(4)}x`,
      ],
      [
        "submit → bus → orchestration → grade.published",
        `${published.length}${waitedFor}`,
        `${wall.toFixed(2)} s`,
        (published.length / wall).toFixed(0),
        p50p95(latencies),
        `${(published.length / wall / (pureMs.length / pureSeconds)).toFixed(4)}x`,
      ],
    ],
  );
  console.log("\n(latency: floors per call; end to end from the submit response to the grade.published row's created_at)\n");
  printTable(
    ["measure", "value"],
    [
      ["submits answered 200 / failed", `${submittedAt.size} / ${submitFailures}`],
      ["submit phase wall / submits per s", `${((submitsDone - start) / 1000).toFixed(2)} s / ${(submittedAt.size / ((submitsDone - start) / 1000)).toFixed(0)}`],
      ["submit response p50 / p95", p50p95(submitMs)],
      ["submit → grade.published p99 / max", `${ms(percentile(latencies, 99))} / ${ms(latencies[latencies.length - 1] ?? NaN)}`],
      ["submit commit → submission.submitted published p50 / p95", `${(phases?.relay50 ?? NaN).toFixed(0)} / ${(phases?.relay95 ?? NaN).toFixed(0)} ms`],
      ["submission.submitted published → grade row p50 / p95", `${(phases?.orch50 ?? NaN).toFixed(0)} / ${(phases?.orch95 ?? NaN).toFixed(0)} ms`],
      ["pure floor checksum (sum of percents)", checksum.toFixed(2)],
      [
        "database per submission: commits / rows read / inserted / updated",
        dbBefore && dbAfter && submittedAt.size > 0
          ? [dbAfter.commits - dbBefore.commits, dbAfter.rows_read - dbBefore.rows_read, dbAfter.inserted - dbBefore.inserted, dbAfter.updated - dbBefore.updated]
              .map((n) => (n / submittedAt.size).toFixed(1))
              .join(" / ")
          : "n/a",
      ],
    ],
  );
  console.log("");
  printTable(
    ["check", "expected", "got", ""],
    [
      ["grade.published rows", String(submittedAt.size), String(published.length), verdict(published.length === submittedAt.size)],
      ["one grade.published per submission", String(published.length), String(publishedPerSubmission), verdict(publishedPerSubmission === published.length)],
      ["submissions with a grade", String(submittedAt.size), String(gradeRows.length), verdict(gradeRows.length === submittedAt.size)],
      ["submissions with more than one grade", "0", String(multiVersion), verdict(multiVersion === 0)],
      ["percent differs from the pure functions", "0", String(wrongPercent), verdict(wrongPercent === 0)],
    ],
  );

  // Verdicts against the targets: 1,000 graded in < 20 s is a rate of 50 grades/s (the same rate is asked
  // of smaller runs), submit response p95 < 300 ms at 50 in flight, and every correctness check above.
  const gradesPerSecond = published.length / wall;
  const readFloor = readMs.length / readSeconds;
  const submitP95 = percentile(submitMs, 95);
  const correct = published.length === submittedAt.size && publishedPerSubmission === published.length && gradeRows.length === submittedAt.size && multiVersion === 0 && wrongPercent === 0 && submitFailures === 0;
  recordResults("grading", [
    { measure: `submitted -> grade.published throughput (${submittedAt.size} submissions)`, value: gradesPerSecond, unit: "grades/s", floor: readFloor, target: ">= 50" },
    { measure: `grading wall, first submit -> last grade.published (${submittedAt.size} submissions)`, value: wall, unit: "s", target: `< ${((20 * submittedAt.size) / 1000).toFixed(1)}` },
    { measure: `submit response p95 (${concurrency} in flight)`, value: submitP95, unit: "ms", target: "< 300" },
    // Every submission graded once, as the pure functions grade it: without it the two rates above mean nothing.
    { measure: "correctness: one grade and one grade.published per submission, percent as the pure functions", value: correct ? 1 : 0, unit: "ok", target: "= 1" },
  ]);
} finally {
  await sql.end({ timeout: 5 }).catch(() => undefined);
  await bench.close();
}
