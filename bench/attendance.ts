// bench/attendance: a lecture hall at once, through the local runtime over real HTTP. One course of BENCH_LEARNERS
// learners with a weekly timetable (a series through the API, half of it past); staff take attendance for past
// sessions in bulk (every learner in one request); then the whole hall checks in with the code staff show, each
// learner with their own token; then the staff's attendance report (learners × sessions) and the reads a
// calendar client and the schedule page make, beside GET /api/health through the same runtime (the floor).
// Usage: npm run bench:attendance
//   BENCH_LEARNERS (1000), BENCH_TAKES (10 bulk takes), BENCH_CONCURRENCY (50 check-ins in flight),
//   BENCH_SECONDS (5) and BENCH_CONNECTIONS (10) for the read measurements, BENCH_DEADLINE_S (120).
// Targets: the hall checks in at >= 100 check-ins/s with p95 < 1 s and every learner marked once; a bulk take of
// the whole roster p95 < 1.5 s; the report's first page < 2 s; the schedule >= 0.1x of the floor's requests/s; the
// .ics feed >= 0.05x (about 150 req/s here: calendar clients poll every 15-60 minutes, so a 10,000-user school asks
// for about 10 a second).
//   BENCH_DISABLE=<function>,<function>: run with those functions disabled (e.g. update-progress-on-event, to see
//   what the event consumers cost the requests).
import autocannon from "autocannon";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchApi, benchEnvironment, insertUsers, mintAccessToken, percentile, printTable, recordResults, runtimeCli, sampleAuth } from "./environment.js";

const learnersWanted = Number(process.env.BENCH_LEARNERS ?? 1000);
const takes = Number(process.env.BENCH_TAKES ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 120);

const DAY = 86_400_000;
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

async function timed(base: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, text };
}

async function reads(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections, duration: seconds, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.errors + r.timeouts + r.non2xx };
}

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  // Codes rotate every two minutes here, so one code serves the whole burst (the period is not what is measured).
  const disabled = Object.fromEntries((process.env.BENCH_DISABLE ?? "").split(",").filter(Boolean).map((n) => [`AzureWebJobs_${n}_Disabled`, "true"]));
  const runtime = await bench.serve([runtimeCli, "start"], "/api/health", { ...sampleAuth, ATTENDANCE_CODE_PERIOD_SECONDS: "120", ...disabled });

  const [adminId] = await insertUsers(sql, 1, "bench-admin", true);
  const admin = await mintAccessToken(adminId as string);
  const course = await benchApi(runtime, "POST", "/v1/courses", admin, { title: "Bench: the lecture hall" });
  const courseId = course.id as string;
  await benchApi(runtime, "POST", `/v1/courses/${courseId}/publish`, admin);
  await benchApi(runtime, "PUT", `/v1/courses/${courseId}/attendance-policy`, admin, { selfCheckIn: true });

  const learners = await insertUsers(sql, learnersWanted, "bench-learner");
  const enrolledAt = new Date(Date.now() - 120 * DAY).toISOString();
  const enrollmentRows = learners.map((userId) => ({ id: uuidv7(), course_id: courseId, user_id: userId, status: "active", source: "staff", enrolled_at: enrolledAt }));
  for (let i = 0; i < enrollmentRows.length; i += 1_000) {
    await sql`insert into enrollments ${sql(enrollmentRows.slice(i, i + 1_000), "id", "course_id", "user_id", "status", "source", "enrolled_at")}`;
  }
  const tokens = await Promise.all(learners.map(mintAccessToken));

  // The timetable: Monday to Friday at 08:00 UTC, from ten weeks back to ten weeks ahead.
  const series = await benchApi(runtime, "POST", `/v1/courses/${courseId}/session-series`, admin, {
    title: "Lecture",
    timeZone: "UTC",
    startTime: "08:00",
    durationMinutes: 60,
    weekdays: [1, 2, 3, 4, 5],
    startsOn: isoDate(new Date(Date.now() - 70 * DAY)),
    until: isoDate(new Date(Date.now() + 70 * DAY)),
  });
  const past = await sql<{ id: string }[]>`select id from class_sessions where series_id = ${series.id as string} and ends_at < now() order by starts_at desc`;
  // The session on now: started five minutes ago, two hours long.
  const start = new Date(Date.now() - 5 * 60_000);
  const live = await benchApi(runtime, "POST", `/v1/courses/${courseId}/sessions`, admin, { title: "Live lecture", timeZone: "UTC", date: isoDate(start), startTime: hhmm(start), durationMinutes: 120 });

  // 1. Bulk takes: the whole roster in one request per past session.
  const statuses = ["present", "present", "present", "late", "absent"] as const;
  const takeMs: number[] = [];
  let takeFailures = 0;
  for (const session of past.slice(0, takes)) {
    const marks = learners.map((userId, i) => ({ userId, status: statuses[(i + takeMs.length) % statuses.length] }));
    // Past the edit window (72 h after the session) a change needs a reason; the bench gives one to every take.
    const r = await timed(runtime, "PUT", `/v1/sessions/${session.id}/attendance`, admin, { marks, reason: "Taken late by the bench" });
    if (r.status !== 200 && takeFailures++ === 0) console.error(`a bulk take answered ${r.status}: ${r.text.slice(0, 300)}`);
    takeMs.push(r.ms);
  }
  takeMs.sort((a, b) => a - b);

  // 2. The hall checks in: every learner posts the code once, `concurrency` at a time.
  const opened = await benchApi(runtime, "POST", `/v1/sessions/${live.id as string}/check-in`, admin, {});
  const code = opened.code as string;
  const checkInMs: number[] = [];
  const checkInStatuses = new Map<number | "error", number>();
  const deadline = Date.now() + deadlineSeconds * 1000;
  let next = 0;
  const burstStarted = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tokens.length) }, async () => {
      while (next < tokens.length && Date.now() < deadline) {
        const token = tokens[next++] as string;
        try {
          const r = await timed(runtime, "POST", `/v1/sessions/${live.id as string}/check-in/code`, token, { code });
          checkInMs.push(r.ms);
          checkInStatuses.set(r.status, (checkInStatuses.get(r.status) ?? 0) + 1);
        } catch {
          checkInStatuses.set("error", (checkInStatuses.get("error") ?? 0) + 1);
        }
      }
    }),
  );
  const burstSeconds = (performance.now() - burstStarted) / 1000;
  checkInMs.sort((a, b) => a - b);
  const [marked] = await sql<{ n: number }[]>`select count(*)::int as n from attendance_marks where session_id = ${live.id as string} and source = 'check-in'`;

  // 3. The staff report: the first page of learners × every session so far, JSON; and the whole CSV.
  const reportMs: number[] = [];
  for (let i = 0; i < 5; i++) reportMs.push((await timed(runtime, "GET", `/v1/courses/${courseId}/attendance`, admin)).ms);
  reportMs.sort((a, b) => a - b);
  const csv = await timed(runtime, "GET", `/v1/courses/${courseId}/attendance?format=csv`, admin);

  // 4. Reads: the floor, a calendar client polling the feed, the schedule page.
  const feed = await benchApi(runtime, "POST", "/v1/me/calendar-feed", tokens[0] as string);
  // The URL the app hands out names PUBLIC_API_URL; the bench's runtime listens on a port of its own.
  const feedUrl = `${runtime}/api/v1/calendar/${String(feed.token)}.ics`;
  const floor = await reads(`${runtime}/api/health`);
  const ics = await reads(feedUrl);
  const from = new Date(Date.now() - 7 * DAY).toISOString();
  const to = new Date(Date.now() + 21 * DAY).toISOString();
  const schedule = await reads(`${runtime}/api/v1/me/schedule?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { authorization: `Bearer ${tokens[1] as string}` });

  console.log(`\nbench/attendance: ${learnersWanted} learners, ${past.length} past sessions, ${takeMs.length} bulk takes, ${concurrency} check-ins in flight, node ${process.version}\n`);
  printTable(
    ["measure", "value"],
    [
      ["bulk take (whole roster) p50 / p95 / max", `${percentile(takeMs, 50).toFixed(0)} / ${percentile(takeMs, 95).toFixed(0)} / ${(takeMs.at(-1) ?? NaN).toFixed(0)} ms (${takeFailures} failed)`],
      ["check-in burst", `${checkInMs.length} in ${burstSeconds.toFixed(2)} s = ${(checkInMs.length / burstSeconds).toFixed(0)}/s`],
      ["check-in p50 / p95 / p99", `${percentile(checkInMs, 50).toFixed(0)} / ${percentile(checkInMs, 95).toFixed(0)} / ${percentile(checkInMs, 99).toFixed(0)} ms`],
      ["check-in statuses", [...checkInStatuses].map(([s, n]) => `${s}: ${n}`).join(", ")],
      ["report first page p50 / max", `${percentile(reportMs, 50).toFixed(0)} / ${(reportMs.at(-1) ?? NaN).toFixed(0)} ms`],
      ["report CSV (all learners)", `${csv.status}, ${csv.ms.toFixed(0)} ms, ${csv.text.length} bytes`],
      ["GET /api/health (floor)", `${floor.rps.toFixed(0)} req/s, p50 ${floor.p50} ms, p99 ${floor.p99} ms, ${floor.failures} failed`],
      ["GET calendar .ics", `${ics.rps.toFixed(0)} req/s, p50 ${ics.p50} ms, p99 ${ics.p99} ms, ${ics.failures} failed`],
      ["GET /v1/me/schedule (4 weeks)", `${schedule.rps.toFixed(0)} req/s, p50 ${schedule.p50} ms, p99 ${schedule.p99} ms, ${schedule.failures} failed`],
    ],
  );
  const everyoneOnce = checkInStatuses.get(200) === learnersWanted && marked?.n === learnersWanted;
  recordResults("attendance", [
    { measure: `check-in burst throughput (${learnersWanted} learners)`, value: checkInMs.length / burstSeconds, unit: "check-ins/s", target: ">= 100" },
    { measure: `check-in p95 (${concurrency} in flight)`, value: percentile(checkInMs, 95), unit: "ms", target: "< 1000" },
    { measure: "correctness: every learner checked in once (200 and one mark each)", value: everyoneOnce ? 1 : 0, unit: "ok", target: "= 1" },
    { measure: `bulk take of ${learnersWanted} marks p95`, value: percentile(takeMs, 95), unit: "ms", target: "< 1500" },
    { measure: "bulk takes answered 200", value: takeFailures === 0 ? 1 : 0, unit: "ok", target: "= 1" },
    { measure: "attendance report first page p50", value: percentile(reportMs, 50), unit: "ms", target: "< 2000" },
    { measure: "calendar .ics requests/s", value: ics.failures === 0 ? ics.rps : 0, unit: "req/s", floor: floor.rps, target: ">= 0.05x" },
    { measure: "me/schedule requests/s", value: schedule.failures === 0 ? schedule.rps : 0, unit: "req/s", floor: floor.rps, target: ">= 0.1x" },
  ]);
  await sql.end({ timeout: 5 });
} finally {
  await bench.close();
}
