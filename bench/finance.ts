// bench/finance: invoices and payments through the local runtime. A paid course (a fee with a two-part plan, made by
// the bursar over HTTP) gets BENCH_ENROLLMENTS active enrollments at once, each with its `enrollment.created` event
// in the outbox (as enrolling writes it): the relay publishes them, and the `invoices` subscription issues one
// invoice per enrollment (gap-free numbers: one counter row, taken in turn). Measured from the insert until every
// invoice exists. Then each learner starts a Checkout (POST /v1/invoices/{id}/checkout, at the runtime's Stripe
// emulator) and all of them are paid at once on the emulator: its signed webhooks reach the app, which records each
// payment once. Measured from the first pay until every payment is recorded. The floor of each, in the same run:
// the same path for one enrollment and one payment (the pipeline's fixed cost: relay, Service Bus, webhooks).
// Usage: npm run bench:finance
//   BENCH_ENROLLMENTS (1000), BENCH_DEADLINE_S (180).
// Checks: exactly one invoice per enrollment with gap-free numbers, exactly one payment per paid session.
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchApi, benchEnvironment, inParallel, insertUsers, mintAccessToken, printTable, recordResults, runtimeCli, sampleAuth, until } from "./environment.js";

const enrollmentsWanted = Number(process.env.BENCH_ENROLLMENTS ?? 1000);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 180);

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 5, onnotice: () => {} });
  // The sweep every second: events inserted outside a request have no relay kick (the floor then shows the sweep).
  const runtime = await bench.serve([runtimeCli, "start"], "/api/health", { ...sampleAuth, OUTBOX_SWEEP_SCHEDULE: "* * * * * *" });
  const [bursarId] = await insertUsers(sql, 1, "bench-bursar", true);
  const bursar = await mintAccessToken(bursarId as string);

  async function paidCourse(title: string): Promise<string> {
    const course = await benchApi(runtime, "POST", "/v1/courses", bursar, { title });
    const courseId = course.id as string;
    await benchApi(runtime, "POST", `/v1/courses/${courseId}/publish`, bursar);
    await benchApi(runtime, "POST", `/v1/courses/${courseId}/fees`, bursar, {
      name: "Tuition",
      currency: "USD",
      amountMinor: 100_000,
      requirement: "none",
      instalments: [
        { amountMinor: 40_000, dueAfterDays: 0 },
        { amountMinor: 60_000, dueAfterDays: 30 },
      ],
      lateFee: { kind: "percent", value: 500, graceDays: 3 },
    });
    return courseId;
  }

  /** Enrolls the learners with their events in one transaction, and times the invoices the bus makes of them. */
  async function invoiceRun(learners: string[], title: string) {
    const courseId = await paidCourse(title);
    const now = new Date().toISOString();
    const rows = learners.map((userId) => ({ id: uuidv7(), course_id: courseId, user_id: userId, status: "active", source: "self", enrolled_at: now }));
    const t0 = performance.now();
    await sql.begin(async (tx) => {
      for (let i = 0; i < rows.length; i += 1_000) {
        const batch = rows.slice(i, i + 1_000);
        await tx`insert into enrollments ${tx(batch, "id", "course_id", "user_id", "status", "source", "enrolled_at")}`;
        const events = batch.map((e) => ({
          id: uuidv7(),
          type: "enrollment.created",
          aggregate_type: "enrollment",
          aggregate_id: e.id,
          course_id: courseId,
          occurred_at: now,
          data: tx.json({ enrollmentId: e.id, courseId, userId: e.user_id, source: "self" }),
        }));
        await tx`insert into outbox ${tx(events, "id", "type", "aggregate_type", "aggregate_id", "course_id", "occurred_at", "data")}`;
      }
    });
    const issued = await until(t0, deadlineSeconds, learners.length, async () => Number((await sql<{ n: number }[]>`select count(*)::int as n from invoices where course_id = ${courseId}`)[0]?.n));
    const [check] = await sql<{ invoices: number; enrollments: number }[]>`
      select count(*)::int as invoices, count(distinct enrollment_id)::int as enrollments from invoices where course_id = ${courseId}`;
    return { courseId, issued, once: check?.invoices === learners.length && check?.enrollments === learners.length };
  }

  /** A Checkout per invoice (as its learner), then all paid at once on the emulator; times the payments recorded. */
  async function paymentRun(courseId: string) {
    const invoices = await sql<{ id: string; user_id: string }[]>`select id, user_id from invoices where course_id = ${courseId}`;
    await inParallel(invoices, 10, async (i) => {
      await benchApi(runtime, "POST", `/v1/invoices/${i.id}/checkout`, await mintAccessToken(i.user_id), {});
    });
    const sessions = await sql<{ session: string }[]>`
      select a.provider_session_id as session from payment_attempts a join invoices i on i.id = a.invoice_id where i.course_id = ${courseId}`;
    const t0 = performance.now();
    await inParallel(sessions, 10, async (s) => {
      const res = await fetch(`${runtime}/admin/stripe/checkout/${s.session}/pay`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      if (res.status >= 300) throw new Error(`pay ${s.session} answered ${res.status}: ${await res.text()}`);
    });
    const paid = await until(t0, deadlineSeconds, sessions.length, async () =>
      Number((await sql<{ n: number }[]>`select count(*)::int as n from payments p join invoices i on i.id = p.invoice_id where i.course_id = ${courseId}`)[0]?.n),
    );
    // Deliveries arrive three times per payment (session completed, intent succeeded, charge succeeded): still one each.
    await new Promise((r) => setTimeout(r, 1_000));
    const [check] = await sql<{ payments: number; invoices: number }[]>`
      select count(*)::int as payments, count(distinct p.invoice_id)::int as invoices from payments p join invoices i on i.id = p.invoice_id where i.course_id = ${courseId}`;
    return { sessions: sessions.length, paid, once: check?.payments === sessions.length && check?.invoices === sessions.length };
  }

  const [single] = await insertUsers(sql, 1, "bench-single");
  const floorInvoices = await invoiceRun([single as string], "Bench: one learner");
  const floorPayments = await paymentRun(floorInvoices.courseId);
  const learners = await insertUsers(sql, enrollmentsWanted, "bench-learner");
  const school = await invoiceRun(learners, "Bench: the whole school");
  const schoolPayments = await paymentRun(school.courseId);
  const numbers = await sql<{ gaps: number }[]>`
    select count(*)::int as gaps from (select number, lag(number) over (order by number) as prev from invoices) x
    where prev is not null and substring(number from 10)::int <> substring(prev from 10)::int + 1`;
  const gapFree = numbers[0]?.gaps === 0;

  const perSecond = (n: number, ms: number) => (Number.isNaN(ms) ? 0 : n / (ms / 1000));
  const s = (ms: number) => (Number.isNaN(ms) ? "not reached" : `${(ms / 1000).toFixed(2)} s`);
  console.log(`\nbench/finance: ${enrollmentsWanted} enrollments into a paid course and their Checkout payments (1 for the floor), node ${process.version}\n`);
  printTable(
    ["measure", "1 (floor)", `${enrollmentsWanted}`],
    [
      ["events → every invoice issued (bus, invoices subscription)", s(floorInvoices.issued.ms), `${s(school.issued.ms)} (${school.issued.reached} invoices)`],
      ["invoices issued per second", perSecond(1, floorInvoices.issued.ms).toFixed(1), perSecond(enrollmentsWanted, school.issued.ms).toFixed(1)],
      ["pay → every payment recorded (emulator webhooks)", s(floorPayments.paid.ms), `${s(schoolPayments.paid.ms)} (${schoolPayments.paid.reached} of ${schoolPayments.sessions})`],
      ["payments applied per second", perSecond(1, floorPayments.paid.ms).toFixed(1), perSecond(schoolPayments.sessions, schoolPayments.paid.ms).toFixed(1)],
      ["one invoice per enrollment, gap-free numbers", floorInvoices.once ? "yes" : "NO", school.once && gapFree ? "yes" : "NO"],
      ["one payment per paid session", floorPayments.once ? "yes" : "NO", schoolPayments.once ? "yes" : "NO"],
    ],
  );
  recordResults("finance", [
    { measure: `invoices issued per second (${enrollmentsWanted} enrollments, through the bus)`, value: perSecond(enrollmentsWanted, school.issued.ms), unit: "/s", floor: perSecond(1, floorInvoices.issued.ms) },
    { measure: `every invoice issued (${enrollmentsWanted} enrollments)`, value: school.issued.ms / 1000, unit: "s", floor: floorInvoices.issued.ms / 1000 },
    { measure: `payments applied per second (${schoolPayments.sessions} Checkout Sessions, webhooks)`, value: perSecond(schoolPayments.sessions, schoolPayments.paid.ms), unit: "/s", floor: perSecond(1, floorPayments.paid.ms) },
    { measure: `every payment recorded (${schoolPayments.sessions} sessions)`, value: schoolPayments.paid.ms / 1000, unit: "s", floor: floorPayments.paid.ms / 1000 },
    { measure: "correctness: one invoice per enrollment (gap-free), one payment per session", value: school.once && gapFree && schoolPayments.once && floorInvoices.once && floorPayments.once ? 1 : 0, unit: "ok", target: "= 1" },
  ]);
  await sql.end({ timeout: 5 });
} finally {
  await bench.close();
}
