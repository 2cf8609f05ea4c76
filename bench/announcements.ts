// bench/announcements: one announcement to a whole school, through the local runtime. An instructor posts to a
// course of BENCH_LEARNERS active learners (published at once); the `emails` subscription fans it out through
// recordNotifications: an inbox row, an email and a push (every learner wants announcements by email and push by
// default, and each has one browser subscribed to push: a real subscription of the runtime's development push
// service, which decrypts what it receives), for each. Measured from the POST: until every learner's inbox row
// exists, until every push delivery is recorded (the same transaction as the inbox rows), and separately until
// every email has been sent (SMTP to the runtime's development mailbox) and every push has been sent (web-push:
// encrypted per subscription, VAPID-signed, to the push service). The floor, in the same
// run: the same path for a course of one learner (the pipeline's fixed cost: outbox relay, Service Bus, subscription).
// Then reads of a learner's inbox beside GET /api/health.
// Usage: npm run bench:announcements
//   BENCH_LEARNERS (5000), BENCH_SECONDS (3) and BENCH_CONNECTIONS (10) for the reads, BENCH_DEADLINE_S (120).
// Targets: every inbox row within 30 s (the target), each learner exactly one row, one email and one push.
import autocannon from "autocannon";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchApi, benchEnvironment, insertUsers, mintAccessToken, printTable, recordResults, runtimeCli, sampleAuth, until } from "./environment.js";

const learnersWanted = Number(process.env.BENCH_LEARNERS ?? 5000);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 120);

async function reads(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections, duration: seconds, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.errors + r.timeouts + r.non2xx };
}

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 5, onnotice: () => {} });
  const runtime = await bench.serve([runtimeCli, "start"], "/api/health", { ...sampleAuth });
  const [adminId] = await insertUsers(sql, 1, "bench-admin", true);
  const admin = await mintAccessToken(adminId as string);

  async function courseOf(learners: string[], title: string): Promise<string> {
    const course = await benchApi(runtime, "POST", "/v1/courses", admin, { title });
    const courseId = course.id as string;
    await benchApi(runtime, "POST", `/v1/courses/${courseId}/publish`, admin);
    const rows = learners.map((userId) => ({ id: uuidv7(), course_id: courseId, user_id: userId, status: "active", source: "staff", enrolled_at: new Date().toISOString() }));
    for (let i = 0; i < rows.length; i += 1_000) await sql`insert into enrollments ${sql(rows.slice(i, i + 1_000), "id", "course_id", "user_id", "status", "source", "enrolled_at")}`;
    return courseId;
  }

  /** One push subscription per learner, each made by the runtime acting as the learner's browser (20 at a time). */
  async function subscribeToPush(learners: string[]): Promise<void> {
    const rows: { id: string; user_id: string; endpoint: string; p256dh: string; auth: string }[] = [];
    for (let i = 0; i < learners.length; i += 20) {
      const made = await Promise.all(
        learners.slice(i, i + 20).map(async (userId) => {
          const res = await fetch(`${runtime}/admin/push/subscriptions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
          if (res.status !== 201) throw new Error(`POST /admin/push/subscriptions answered ${res.status} (is WEB_PUSH_DEVELOPMENT_ORIGIN UseDevelopmentPush=true?)`);
          const sub = (await res.json()) as { endpoint: string; keys: { p256dh: string; auth: string } };
          return { id: uuidv7(), user_id: userId, endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth };
        }),
      );
      rows.push(...made);
    }
    for (let i = 0; i < rows.length; i += 1_000) await sql`insert into push_subscriptions ${sql(rows.slice(i, i + 1_000), "id", "user_id", "endpoint", "p256dh", "auth")}`;
  }

  /** Posts an announcement (published now) and times its fan-out to `recipients` learners. */
  async function fanOut(courseId: string, recipients: number) {
    const t0 = performance.now();
    const posted = await benchApi(runtime, "POST", `/v1/courses/${courseId}/announcements`, admin, { title: "Timetable change", body: "From Monday the **morning lectures** start at 08:30.\n\nSee the [schedule](https://example.org/schedule)." });
    const id = posted.id as string;
    // Published at once: its event is recorded with it.
    const [event] = await sql<{ id: string }[]>`select id from outbox where aggregate_id = ${id}`;
    const eventId = event?.id ?? uuidv7();
    const counted = (query: () => Promise<{ n: number }[]>) => async () => Number((await query())[0]?.n);
    // Polled side by side, so each is timed on its own.
    const [inbox, pushRecorded, sent, pushSent] = await Promise.all([
      until(t0, deadlineSeconds, recipients, counted(() => sql`select count(*)::int as n from notifications where subject_type = 'announcement' and subject_id = ${id}`)),
      until(t0, deadlineSeconds, recipients, counted(() => sql`select count(*)::int as n from channel_deliveries where event_id = ${eventId} and channel = 'push'`)),
      until(t0, deadlineSeconds, recipients, counted(() => sql`select count(*)::int as n from email_deliveries where event_id = ${eventId} and status = 'sent'`)),
      until(t0, deadlineSeconds, recipients, counted(() => sql`select count(*)::int as n from channel_deliveries where event_id = ${eventId} and channel = 'push' and status = 'sent'`)),
    ]);
    const [counts] = await sql<{ rows: number; users: number; emails: number; pushes: number; pushed: number }[]>`
      select (select count(*)::int from notifications where subject_id = ${id}) as rows,
             (select count(distinct user_id)::int from notifications where subject_id = ${id}) as users,
             (select count(*)::int from email_deliveries where event_id = ${eventId}) as emails,
             (select count(*)::int from channel_deliveries where event_id = ${eventId} and channel = 'push') as pushes,
             (select count(distinct user_id)::int from channel_deliveries where event_id = ${eventId} and channel = 'push') as pushed`;
    const exactlyOnce = [counts?.rows, counts?.users, counts?.emails, counts?.pushes, counts?.pushed].every((n) => n === recipients);
    return { inbox, pushRecorded, sent, pushSent, exactlyOnce };
  }

  const [single] = await insertUsers(sql, 1, "bench-single");
  await subscribeToPush([single as string]);
  const floor = await fanOut(await courseOf([single as string], "Bench: one learner"), 1);
  const learners = await insertUsers(sql, learnersWanted, "bench-learner");
  await subscribeToPush(learners);
  const school = await fanOut(await courseOf(learners, "Bench: the whole school"), learnersWanted);

  const token = await mintAccessToken(learners[0] as string);
  const health = await reads(`${runtime}/api/health`);
  const inboxReads = await reads(`${runtime}/api/v1/me/notifications?limit=20`, { authorization: `Bearer ${token}` });

  console.log(`\nbench/announcements: one announcement to ${learnersWanted} learners (and to 1 for the floor), node ${process.version}\n`);
  const s = (ms: number) => (Number.isNaN(ms) ? "not reached" : `${(ms / 1000).toFixed(2)} s`);
  printTable(
    ["measure", "1 learner (floor)", `${learnersWanted} learners`],
    [
      ["POST → every inbox row (emails recorded with them)", s(floor.inbox.ms), `${s(school.inbox.ms)} (${school.inbox.reached} rows)`],
      ["POST → every push delivery recorded", s(floor.pushRecorded.ms), `${s(school.pushRecorded.ms)} (${school.pushRecorded.reached} recorded)`],
      ["POST → every email sent (SMTP, development mailbox)", s(floor.sent.ms), `${s(school.sent.ms)} (${school.sent.reached} sent)`],
      ["POST → every push sent (web-push, development push service)", s(floor.pushSent.ms), `${s(school.pushSent.ms)} (${school.pushSent.reached} sent)`],
      ["one inbox row, email and push per learner", floor.exactlyOnce ? "yes" : "NO", school.exactlyOnce ? "yes" : "NO"],
    ],
  );
  printTable(
    ["read", "req/s", "p50 / p99 ms", "failed"],
    [
      ["GET /api/health (floor)", health.rps.toFixed(0), `${health.p50} / ${health.p99}`, String(health.failures)],
      ["GET /v1/me/notifications (a learner)", inboxReads.rps.toFixed(0), `${inboxReads.p50} / ${inboxReads.p99}`, String(inboxReads.failures)],
    ],
  );
  recordResults("announcements", [
    { measure: `announcement in every inbox (${learnersWanted} learners)`, value: school.inbox.ms / 1000, unit: "s", floor: floor.inbox.ms / 1000, target: "< 30" },
    { measure: `every push delivery recorded (${learnersWanted} learners)`, value: school.pushRecorded.ms / 1000, unit: "s", floor: floor.pushRecorded.ms / 1000, target: "< 30" },
    { measure: `every email sent (${learnersWanted} learners)`, value: school.sent.ms / 1000, unit: "s", floor: floor.sent.ms / 1000 },
    { measure: `every push sent (${learnersWanted} learners)`, value: school.pushSent.ms / 1000, unit: "s", floor: floor.pushSent.ms / 1000 },
    { measure: "correctness: one inbox row, email and push per learner", value: school.exactlyOnce && floor.exactlyOnce ? 1 : 0, unit: "ok", target: "= 1" },
    { measure: "GET /v1/me/notifications requests/s", value: inboxReads.failures === 0 ? inboxReads.rps : 0, unit: "req/s", floor: health.rps, target: ">= 0.1x" },
  ]);
  await sql.end({ timeout: 5 });
} finally {
  await bench.close();
}
