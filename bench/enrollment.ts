// bench/enrollment: a crowd enrolling at once into one small course through the local runtime over real HTTP
// (each learner with their own bearer token and Idempotency-Key), then whether the seats and the waitlist came
// out exact; then the catalog read path (one course, the first page) beside a bare Node floor doing the
// one-query course read, measured in the same run.
// Usage: npm run bench:enrollment
//   BENCH_LEARNERS (2000), BENCH_CAPACITY (100), BENCH_CONCURRENCY (50), BENCH_DEADLINE_S (300),
//   BENCH_SECONDS (10) and BENCH_CONNECTIONS (10) for the catalog measurements; DATABASE_POOL_MAX (5) for both servers.
//   BENCH_EVENT_CONSUMERS=off, BENCH_SAMPLE_WAITS=1, BENCH_RUNTIME_NODE_ARGS: see below (diagnostics).
// Targets (issue 12): the burst in < 4 s (>= 500 req/s), p95 < 500 ms, every check ok; the course read >= 0.6x of
// its floor. Verdicts are printed last; with BENCH_RESULTS_FILE set, the figures are written there as JSON.
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import autocannon from "autocannon";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchApi, benchEnvironment, insertUsers, mintAccessToken, percentile, printSamples, printTable, recordResults, runtimeCli, sampleAuth, sampleSessions } from "./environment.js";

const learnersWanted = Number(process.env.BENCH_LEARNERS ?? 2000);
const capacity = Number(process.env.BENCH_CAPACITY ?? 100);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 300);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const poolMax = process.env.DATABASE_POOL_MAX ?? "5";
// BENCH_SAMPLE_WAITS=1: sample what the runtime's PostgreSQL sessions are doing every 20 ms during the burst.
const sampleWaits = process.env.BENCH_SAMPLE_WAITS === "1";
// BENCH_EVENT_CONSUMERS=off: the Service Bus subscriptions are disabled in the runtime, so the figures are the
// request path alone (the events an enrollment records are still written; bench:events measures their delivery).
const eventConsumers = process.env.BENCH_EVENT_CONSUMERS !== "off";
const consumerNames = ["send-emails-on-event", "issue-certificate-on-course-completed", "append-activity-on-event", "start-grading-on-submission", "update-progress-on-event", "deliver-webhooks-on-event"];
// Extra node flags for the runtime only, e.g. BENCH_RUNTIME_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
const runtimeNodeArgs = (process.env.BENCH_RUNTIME_NODE_ARGS ?? "").split(" ").filter(Boolean);

const auth = sampleAuth;
const accessToken = mintAccessToken;

const api = benchApi;

interface Outcome {
  status: number | "error";
  ms: number;
  enrollment?: { status: string; position: number | null };
}

/** Every learner enrolls once, `concurrency` at a time; nothing new starts after the deadline. */
async function enrollAll(base: string, courseId: string, tokens: string[]): Promise<{ outcomes: Outcome[]; seconds: number; skipped: number }> {
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + deadlineSeconds * 1000;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tokens.length) }, async () => {
      while (next < tokens.length && Date.now() < deadline) {
        const token = tokens[next++] as string;
        const t0 = performance.now();
        try {
          const res = await fetch(`${base}/api/v1/courses/${courseId}/enrollments`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "idempotency-key": randomUUID() },
            signal: AbortSignal.timeout(30_000),
          });
          const body = (await res.json()) as { status?: string; position?: number | null };
          const ms = performance.now() - t0;
          outcomes.push({ status: res.status, ms, ...(res.status === 201 ? { enrollment: { status: String(body.status), position: body.position ?? null } } : {}) });
        } catch {
          outcomes.push({ status: "error", ms: performance.now() - t0 });
        }
      }
    }),
  );
  return { outcomes, seconds: (performance.now() - started) / 1000, skipped: tokens.length - next };
}

async function load(url: string) {
  const result = await autocannon({ url, connections, duration: seconds });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures: result.errors + result.timeouts + result.non2xx };
}

/** CPU seconds used so far by the runtime (this bench's child running the local CLI), the PostgreSQL server (postmaster and backends), and this bench. */
function cpuSeconds(): { runtime: number; postgres: number; bench: number } {
  const port = new URL(bench.databaseUrl).port;
  const procs = readdirSync("/proc").flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      return [{ pid: Number(pid), ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100, cmd }];
    } catch {
      return []; // the process ended while we looked
    }
  });
  const postmaster = procs.find((p) => p.cmd.includes("bin/postgres") && p.cmd.includes(` -p ${port} `))?.pid;
  const sum = (keep: (p: (typeof procs)[number]) => boolean) => procs.filter(keep).reduce((a, p) => a + p.cpu, 0);
  return {
    runtime: sum((p) => p.ppid === process.pid && p.cmd.includes(runtimeCli)),
    postgres: sum((p) => p.pid === postmaster || p.ppid === postmaster),
    bench: sum((p) => p.pid === process.pid),
  };
}

const isDense = (positions: number[]) => {
  const sorted = [...positions].sort((a, b) => a - b);
  return sorted.every((p, i) => p === i + 1);
};

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const serverEnv = { ...auth, DATABASE_POOL_MAX: poolMax };
  const disabled = eventConsumers ? {} : Object.fromEntries(consumerNames.map((n) => [`AzureWebJobs_${n}_Disabled`, "true"]));
  const runtime = await bench.serve([...runtimeNodeArgs, runtimeCli, "start"], "/api/health", { ...serverEnv, ...disabled });
  const bare = await bench.serve(["--import", "tsx", "bench/bare-server.ts"], "/api/health", serverEnv);

  // The course through the API, as an admin; a catalog of 200 published courses beside it, written directly.
  const [adminId] = await insertUsers(sql, 1, "bench-admin", true);
  const adminToken = await accessToken(adminId as string);
  const created = await api(runtime, "POST", "/v1/courses", adminToken, { title: "Bench: the crowded course", capacity, waitlistEnabled: true, waitlistMode: "auto" });
  const courseId = created.id as string;
  await api(runtime, "POST", `/v1/courses/${courseId}/publish`, adminToken);
  const catalog = Array.from({ length: 199 }, (_, i) => ({ id: uuidv7(), title: `Catalog course ${i}`, description: `Seeded course number ${i}`, status: "published", capacity: 30 }));
  await sql`insert into courses ${sql(catalog, "id", "title", "description", "status", "capacity")}`;
  await sql`update courses set published_at = now() where published_at is null and status = 'published'`;

  const learners = await insertUsers(sql, learnersWanted, "bench-learner");
  const tokens = await Promise.all(learners.map(accessToken));

  // Warm the runtime (JIT, pool, token verification) on reads before the burst.
  await autocannon({ url: `${runtime}/api/v1/courses/${courseId}`, connections, amount: 500, headers: { authorization: `Bearer ${tokens[0] as string}` } });

  const sampling = sampleWaits ? sampleSessions(sql) : undefined;
  const cpuBefore = cpuSeconds();
  const run = await enrollAll(runtime, courseId, tokens);
  const cpuAfter = cpuSeconds();
  if (sampling) printSamples(await sampling.stop());
  const ms = run.outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const cpuSpent = (["runtime", "postgres", "bench"] as const).reduce((a, k) => a + cpuAfter[k] - cpuBefore[k], 0);
  const ceiling = Math.round((cpus().length * run.outcomes.length) / Math.max(cpuSpent, 1e-3));
  const statuses = new Map<string, number>();
  for (const o of run.outcomes) statuses.set(String(o.status), (statuses.get(String(o.status)) ?? 0) + 1);
  const answered = run.outcomes.flatMap((o) => (o.enrollment ? [o.enrollment] : []));
  const answeredPositions = answered.flatMap((e) => (e.status === "waitlisted" && e.position !== null ? [e.position] : []));

  const [counts] = await sql<{ active: number; waitlisted: number; seats_taken: number }[]>`
    select count(*) filter (where e.status = 'active')::int as active, count(*) filter (where e.status = 'waitlisted')::int as waitlisted,
           (select seats_taken from courses where id = ${courseId}) as seats_taken
    from enrollments e where e.course_id = ${courseId}`;
  const tablePositions = (
    await sql<{ position: number }[]>`
      select (select count(*)::int from enrollments w where w.course_id = e.course_id and w.status = 'waitlisted' and w.waitlist_seq <= e.waitlist_seq) as position
      from enrollments e where e.course_id = ${courseId} and e.status = 'waitlisted'`
  ).map((r) => r.position);
  const [events] = await sql<{ created: number; waitlisted: number }[]>`
    select count(*) filter (where type = 'enrollment.created')::int as created, count(*) filter (where type = 'enrollment.waitlisted')::int as waitlisted
    from outbox where course_id = ${courseId}`;

  const expectWaitlisted = Math.max(0, learnersWanted - capacity);
  const verdict = (ok: boolean) => (ok ? "ok" : "WRONG");
  console.log(`\nbench/enrollment: ${learnersWanted} learners into a ${capacity}-seat course (waitlist auto), ${concurrency} requests in flight, runtime pool ${poolMax}, node ${process.version}\n`);
  printTable(
    ["measure", "value"],
    [
      ["requests sent", `${run.outcomes.length}${run.skipped ? ` (${run.skipped} not sent: deadline)` : ""}`],
      ["wall time", `${run.seconds.toFixed(2)} s`],
      ["throughput", `${(run.outcomes.length / run.seconds).toFixed(0)} req/s`],
      ["latency p50 / p95 / p99", `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 95).toFixed(1)} / ${percentile(ms, 99).toFixed(1)} ms`],
      ["latency max", `${(ms[ms.length - 1] ?? NaN).toFixed(1)} ms`],
      ["status counts", [...statuses].map(([s, n]) => `${s}: ${n}`).join(", ")],
      [
        "CPU per request (runtime / postgres / bench)",
        (["runtime", "postgres", "bench"] as const).map((k) => `${((1000 * (cpuAfter[k] - cpuBefore[k])) / run.outcomes.length).toFixed(2)}`).join(" / ") + " ms",
      ],
    ],
  );
  console.log("");
  const checks: [string, string, string, boolean][] = [
    ["active (table)", String(capacity), String(counts?.active), counts?.active === capacity],
    ["courses.seats_taken", String(capacity), String(counts?.seats_taken), counts?.seats_taken === capacity],
    ["waitlisted (table)", String(expectWaitlisted), String(counts?.waitlisted), counts?.waitlisted === expectWaitlisted],
    ["positions answered dense", `1..${expectWaitlisted}`, `${answeredPositions.length} values`, answeredPositions.length === expectWaitlisted && isDense(answeredPositions)],
    ["positions from table dense", `1..${expectWaitlisted}`, `${tablePositions.length} values`, tablePositions.length === expectWaitlisted && isDense(tablePositions)],
    [
      "outbox created / waitlisted",
      `${capacity} / ${expectWaitlisted}`,
      `${events?.created} / ${events?.waitlisted}`,
      events?.created === capacity && events?.waitlisted === expectWaitlisted,
    ],
    ["every request answered 201", String(learnersWanted), String(statuses.get("201") ?? 0), (statuses.get("201") ?? 0) === learnersWanted],
  ];
  printTable(
    ["check", "expected", "got", ""],
    checks.map(([name, expected, got, ok]) => [name, expected, got, verdict(ok)]),
  );

  // The catalog read path, anonymous (public routes), beside the floor's one-query course read.
  const rows: string[][] = [];
  const reads: { label: string; rps: number }[] = [];
  const floorUrl = `${bare}/api/v1/courses/${courseId}`;
  await autocannon({ url: floorUrl, connections, amount: 500 });
  const floor = await load(floorUrl);
  rows.push(["GET /api/v1/courses/{id}", "bare node (floor)", floor.rps.toFixed(0), `${floor.p50} ms`, `${floor.p99} ms`, String(floor.failures), "1.00x"]);
  for (const [label, path] of [
    ["GET /api/v1/courses/{id}", `/api/v1/courses/${courseId}`],
    ["GET /api/v1/courses", "/api/v1/courses"],
  ] as const) {
    await autocannon({ url: `${runtime}${path}`, connections, amount: 500 });
    const app = await load(`${runtime}${path}`);
    rows.push([label, "local runtime", app.rps.toFixed(0), `${app.p50} ms`, `${app.p99} ms`, String(app.failures), `${(app.rps / floor.rps).toFixed(2)}x`]);
    reads.push({ label, rps: app.failures ? 0 : app.rps });
  }
  await sql.end();
  console.log(`\ncatalog reads: ${connections} connections, ${seconds} s per measurement, ${catalog.length + 1} published courses`);
  console.log("(floor: 1 query by primary key; the app's course read is 1 query with its prerequisites, the first page 1 query for 21 courses and theirs)\n");
  printTable(["route", "server", "req/s", "p50", "p99", "failed", "of floor"], rows);

  recordResults("enrollment", [
    // 2,000 learners in < 4 s; a smaller crowd (--quick) gets the same rate.
    { measure: `enrollment: ${learnersWanted} learners, wall time`, value: run.seconds, unit: "s", target: `< ${Number(((4 * learnersWanted) / 2000).toFixed(2))}` },
    { measure: "enrollment: throughput", value: run.outcomes.length / run.seconds, unit: "req/s", target: ">= 500" },
    { measure: "enrollment: latency p95", value: percentile(ms, 95), unit: "ms", target: "< 500" },
    { measure: "enrollment: latency p50", value: percentile(ms, 50), unit: "ms" },
    { measure: "enrollment: latency p99", value: percentile(ms, 99), unit: "ms" },
    { measure: "enrollment: correctness checks failed", value: checks.filter((c) => !c[3]).length, unit: "checks", target: "= 0" },
    { measure: "enrollment: runtime CPU per request", value: (1000 * (cpuAfter.runtime - cpuBefore.runtime)) / Math.max(1, run.outcomes.length), unit: "ms" },
    // Were nothing else running, the machine could not serve more than its cores over the CPU one request costs.
    { measure: `enrollment: CPU ceiling on ${cpus().length} cores (cores / CPU per request of runtime, PostgreSQL and bench)`, value: ceiling, unit: "req/s" },
    ...reads.map((r, i) => ({
      measure: `${r.label} (anonymous)`,
      value: r.rps,
      unit: "req/s",
      // The floor is a one-course read; the catalog page is shown against it without a target.
      ...(i === 0 ? { floor: floor.rps, target: ">= 0.6x" } : { floor: floor.rps }),
    })),
  ]);
} finally {
  await bench.close();
}
