import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enroll } from "../../../domain/enrollment/enroll.js";
import { type EnrollmentRow, enrollmentsPart } from "../../../domain/imports/kinds/enrollments.js";
import { leaveCourse } from "../../../domain/enrollment/leave.js";
import { issueCreditNote } from "../../../domain/finance/credit-notes.js";
import { grantDiscount } from "../../../domain/finance/discounts.js";
import { issueInvoicesForEnrollment } from "../../../domain/finance/invoices.js";
import { retireFee } from "../../../domain/finance/fees.js";
import { releaseExpiredHolds } from "../../../domain/finance/seat-holds.js";
import { placeLearner } from "../../../domain/sections/place-learner.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { courseEvents, enrollmentState, insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";

// Held seats in the domain, without the app: auto promotion into a held seat, the release timer skipping a hold
// that was paid meanwhile, two timer runs at once, 20 learners racing for the seats of a pay-first course, and an
// imported learner's seat held like any other.

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const inTransaction = <T>(fn: (tx: DomainContext) => Promise<T>) => inTransactionOf(db, ctx)(fn);

/** A published course with a course-wide fee that asks for the whole amount first. */
async function payFirstCourse(capacity: number): Promise<string> {
  const courseId = await insertPublishedCourse(db.sql, { capacity, waitlistMode: "auto" });
  await db.sql`insert into fees (id, course_id, name, currency, amount_minor, requirement) values (${uuidv7()}, ${courseId}, 'Tuition', 'EUR', 50000, 'full')`;
  return courseId;
}
const statusOf = async (courseId: string) => Object.fromEntries((await enrollmentState(db.sql, courseId)).map((r) => [r.userId, r.status]));
const seatsTaken = async (courseId: string) => (await db.sql<{ n: number }[]>`select seats_taken as n from courses where id = ${courseId}`)[0]?.n;

it("promotes the first in line into a held seat (auto), releases holds past due once and skips one that became active", async () => {
  const courseId = await payFirstCourse(2);
  const [a, b, c, d] = await insertLearners(db.sql, 4, "hold");
  for (const userId of [a, b, c, d]) {
    const r = await inTransaction((tx) => enroll({ ...tx, paymentHoldHours: 1 }, { courseId, userId: userId!, source: "self" }));
    expect(r.ok).toBe(true);
  }
  expect(await statusOf(courseId)).toEqual({ [a!]: "pending-payment", [b!]: "pending-payment", [c!]: "waitlisted", [d!]: "waitlisted" });

  // a drops: c moves up, into a held seat (auto mode), with its own due time.
  await inTransaction((tx) => leaveCourse(tx, { courseId, userId: a!, by: "learner" }));
  expect((await statusOf(courseId))[c!]).toBe("pending-payment");
  const promoted = (await courseEvents(db.sql, courseId)).filter((e) => e.type === "enrollment.pending-payment" && e.data.userId === c);
  expect(promoted.map((e) => e.data.source)).toEqual(["waitlist"]);

  // b's and c's holds pass their time, but b's invoice was paid just before (settleInvoices made it active).
  await db.sql`update enrollments set payment_due_at = now() - interval '1 minute' where course_id = ${courseId} and status = 'pending-payment'`;
  await db.sql`update enrollments set status = 'active', payment_due_at = null, enrolled_at = now() where course_id = ${courseId} and user_id = ${b!}`;
  // Two runs at once: each hold is released by one of them.
  const runs = await Promise.all([releaseExpiredHolds(ctx), releaseExpiredHolds(ctx)]);
  expect(runs.reduce((n, r) => n + r.released, 0)).toBe(1);
  expect(await statusOf(courseId)).toMatchObject({ [b!]: "active", [c!]: "payment-expired", [d!]: "pending-payment" });
  expect(await seatsTaken(courseId)).toBe(2);
  expect((await courseEvents(db.sql, courseId)).filter((e) => e.type === "enrollment.payment-expired").map((e) => e.data.userId)).toEqual([c]);
  expect((await releaseExpiredHolds(ctx)).released).toBe(0);
});

it("never holds more seats than the capacity when 20 learners race for a pay-first course", async () => {
  const courseId = await payFirstCourse(5);
  const learners = await insertLearners(db.sql, 20, "race");
  const results = await Promise.all(learners.map((userId) => inTransaction((tx) => enroll(tx, { courseId, userId, source: "self" }))));
  expect(results.every((r) => r.ok)).toBe(true);
  const counts = Object.values(await statusOf(courseId)).reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
  expect(counts).toEqual({ "pending-payment": 5, waitlisted: 15 });
  expect(await seatsTaken(courseId)).toBe(5);
  // The default hold is 48 hours when the context does not say.
  const [row] = await db.sql<{ hours: number }[]>`select extract(epoch from payment_due_at - created_at)::int / 3600 as hours from enrollments where course_id = ${courseId} and status = 'pending-payment' limit 1`;
  expect(row?.hours).toBe(48);
});

it("holds the seat of a learner imported into a pay-first course", async () => {
  const courseId = await payFirstCourse(3);
  const code = `PAY-${courseId.slice(-6)}`;
  await db.sql`update courses set code = ${code} where id = ${courseId}`;
  const [userId] = await insertLearners(db.sql, 1, "imported");
  const [user] = await db.sql<{ email: string }[]>`select email from users where id = ${userId!}`;
  const rows = [{ line: 2, row: enrollmentsPart.schema.parse({ course: code, email: user!.email, name: "", role: "learner", section: "" }) as EnrollmentRow }];
  const run = { importId: uuidv7(), dryRun: false, importerUserId: userId!, courseId: null, appUrl: "https://app.example", invitationTtlHours: 72 };
  await inTransaction((tx) => enrollmentsPart.apply(tx, run, rows));
  expect(await statusOf(courseId)).toEqual({ [userId!]: "pending-payment" });
  expect((await courseEvents(db.sql, courseId)).map((e) => [e.type, e.data.source])).toEqual([["enrollment.pending-payment", "import"]]);
  expect(await seatsTaken(courseId)).toBe(1);
});

it("credits a discount to the re-enrolled learner's live invoice, and refuses one that reaches no money", async () => {
  const courseId = await payFirstCourse(2);
  const [feeRow] = await db.sql<{ id: string }[]>`select id from fees where course_id = ${courseId}`;
  const [back, voided] = await insertLearners(db.sql, 2, "discounted");
  const liveEnrollment = async (userId: string) =>
    (await db.sql<{ id: string }[]>`select id from enrollments where course_id = ${courseId} and user_id = ${userId} and status = 'pending-payment'`)[0]!.id;
  const enrollAndInvoice = async (userId: string) => {
    expect((await inTransaction((tx) => enroll(tx, { courseId, userId, source: "self" }))).ok).toBe(true);
    const [invoiceId] = await inTransaction(async (tx) => issueInvoicesForEnrollment(tx, await liveEnrollment(userId)));
    return invoiceId!;
  };
  // The first hold expires unpaid (its invoice stays, open); the learner comes back and gets a second invoice.
  const oldInvoice = await enrollAndInvoice(back!);
  await db.sql`update enrollments set payment_due_at = now() - interval '1 minute' where course_id = ${courseId} and user_id = ${back!}`;
  expect((await releaseExpiredHolds(ctx)).released).toBe(1);
  const newInvoice = await enrollAndInvoice(back!);
  const granted = await inTransaction((tx) => grantDiscount(tx, { courseId, feeId: feeRow!.id, userId: back!, kind: "fixed", value: 5000, reason: "Returning" }));
  expect(granted.ok && granted.value.creditNote?.amountMinor).toBe(5000);
  const notes = await db.sql<{ invoice_id: string }[]>`select invoice_id from credit_notes where invoice_id in (${oldInvoice}, ${newInvoice})`;
  expect(notes.map((n) => n.invoice_id)).toEqual([newInvoice]);

  // A live invoice cancelled in full: nothing to take off, so the grant is refused and nothing is recorded.
  const cancelled = await enrollAndInvoice(voided!);
  expect((await inTransaction((tx) => issueCreditNote(tx, { invoiceId: cancelled, amountMinor: 50_000, reason: "Cancelled" }))).ok).toBe(true);
  const refused = await inTransaction((tx) => grantDiscount(tx, { courseId, feeId: feeRow!.id, userId: voided!, kind: "waiver", value: 0, reason: "Late" }));
  expect(refused.ok ? "granted" : refused.error.code).toBe("FEE_DISCOUNT_NOTHING_TO_CREDIT");
  expect(await db.sql`select 1 from fee_discounts where user_id = ${voided!}`).toHaveLength(0);
});

it("grants a fixed discount larger than 32 bits (3,000,000,000 IDR) and keeps it exact", async () => {
  const courseId = await insertPublishedCourse(db.sql, { capacity: 2, waitlistMode: "auto" });
  const feeId = uuidv7();
  await db.sql`insert into fees (id, course_id, name, currency, amount_minor, requirement, late_fee_kind, late_fee_value) values (${feeId}, ${courseId}, 'Tuition', 'IDR', 5000000000, 'full', 'fixed', 2500000000)`;
  const [userId] = await insertLearners(db.sql, 1, "rupiah");
  const granted = await inTransaction((tx) => grantDiscount(tx, { courseId, feeId, userId: userId!, kind: "fixed", value: 3_000_000_000, reason: "Scholarship" }));
  expect(granted.ok && granted.value.value).toBe(3_000_000_000);
  const [row] = await db.sql<{ value: string }[]>`select value::text from fee_discounts where fee_id = ${feeId}`;
  expect(row?.value).toBe("3000000000");
});

it("places a held learner in a section, counts held and suspended seats as section places, and an import round trip leaves them unchanged", async () => {
  const courseId = await payFirstCourse(3);
  const code = `SEC-${courseId.slice(-6)}`;
  const sectionId = uuidv7();
  await db.sql`update courses set code = ${code} where id = ${courseId}`;
  await db.sql`insert into sections (id, course_id, name, capacity) values (${sectionId}, ${courseId}, 'Lab', 1)`;
  const [held, other] = await insertLearners(db.sql, 2, "placed");
  for (const userId of [held!, other!]) expect((await inTransaction((tx) => enroll(tx, { courseId, userId, source: "self" }))).ok).toBe(true);
  const enrollmentOf = async (userId: string) => (await db.sql<{ id: string }[]>`select id from enrollments where course_id = ${courseId} and user_id = ${userId}`)[0]!.id;
  const placed = await inTransaction(async (tx) => placeLearner(tx, { courseId, enrollmentId: await enrollmentOf(held!), sectionId }));
  expect(placed.ok).toBe(true);
  // The held learner takes the section's one place.
  const full = await inTransaction(async (tx) => placeLearner(tx, { courseId, enrollmentId: await enrollmentOf(other!), sectionId }));
  expect(full.ok ? "placed" : full.error.code).toBe("SECTION_FULL");

  const [user] = await db.sql<{ email: string }[]>`select email from users where id = ${held!}`;
  const rows = [{ line: 2, row: enrollmentsPart.schema.parse({ course: code, email: user!.email, name: "", role: "learner", section: "Lab" }) as EnrollmentRow }];
  const run = { importId: uuidv7(), dryRun: false, importerUserId: held!, courseId: null, appUrl: "https://app.example", invitationTtlHours: 72 };
  for (const status of ["pending-payment", "suspended"]) {
    await db.sql`update enrollments set status = ${status} where id = ${await enrollmentOf(held!)}`;
    const outcomes = await inTransaction((tx) => enrollmentsPart.apply(tx, run, rows));
    expect(outcomes.map((o) => o.result)).toEqual(["unchanged"]);
  }
});

it("activates the held seats once the course's last pay-first fee is retired", async () => {
  const courseId = await payFirstCourse(3);
  const [feeRow] = await db.sql<{ id: string }[]>`select id from fees where course_id = ${courseId}`;
  const [a, b] = await insertLearners(db.sql, 2, "retired-fee");
  for (const userId of [a!, b!]) expect((await inTransaction((tx) => enroll(tx, { courseId, userId, source: "self" }))).ok).toBe(true);
  expect(Object.values(await statusOf(courseId))).toEqual(["pending-payment", "pending-payment"]);
  expect((await inTransaction((tx) => retireFee(tx, courseId, feeRow!.id, undefined))).ok).toBe(true);
  expect(await statusOf(courseId)).toEqual({ [a!]: "active", [b!]: "active" });
  expect(await db.sql`select 1 from enrollments where course_id = ${courseId} and (payment_due_at is not null or enrolled_at is null)`).toHaveLength(0);
  const promoted = (await courseEvents(db.sql, courseId)).filter((e) => e.type === "enrollment.promoted");
  expect(promoted.map((e) => [e.data.userId, e.data.from]).sort()).toEqual([[a, "pending-payment"], [b, "pending-payment"]].sort());
  expect(await seatsTaken(courseId)).toBe(2);
});
