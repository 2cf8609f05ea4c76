import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dunningNotices, type DunningOptions, runDunning } from "../../../domain/finance/dunning.js";
import { issueInvoicesForEnrollment } from "../../../domain/finance/invoices.js";
import { recordManualPayment } from "../../../domain/finance/payments.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { inTransactionOf } from "../../support/domain-database.js";
import { insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 10 });
});
afterAll(async () => {
  await db?.drop();
});

const DAY = 86_400_000;
const start = new Date("2031-03-01T09:00:00.000Z");
let clock = start;
const at = (days: number) => (clock = new Date(start.getTime() + days * DAY));
const ctx: () => DomainContext = () => ({ db: db.db, now: () => clock, newId: uuidv7, actor: { userId: null, requestId: null, clientIp: null, traceparent: null } });
const inTx = <T>(op: (c: DomainContext) => Promise<T>): Promise<T> => inTransactionOf(db, ctx())(op);
const options: DunningOptions = { dueSoonDays: 3, suspendAfterDays: 3, appUrl: "https://app.example.test" };

async function billedLearners(
  count: number,
  fee: { lateFeeKind: "none" | "fixed" | "percent"; lateFeeValue: number; graceDays: number; plan: { amountMinor: number; dueAfterDays: number }[] },
): Promise<{ courseId: string; users: string[]; enrollments: string[]; invoices: string[] }> {
  const courseId = await insertPublishedCourse(db.sql, { capacity: 100 });
  const feeId = uuidv7();
  const total = fee.plan.reduce((s, p) => s + p.amountMinor, 0);
  await db.sql`insert into fees (id, course_id, name, currency, amount_minor, late_fee_kind, late_fee_value, late_fee_grace_days)
    values (${feeId}, ${courseId}, 'Tuition', 'USD', ${total}, ${fee.lateFeeKind}, ${fee.lateFeeValue}, ${fee.graceDays})`;
  for (const [i, p] of fee.plan.entries()) {
    await db.sql`insert into fee_instalments (fee_id, seq, amount_minor, due_after_days) values (${feeId}, ${i + 1}, ${p.amountMinor}, ${p.dueAfterDays})`;
  }
  const users = await insertLearners(db.sql, count, "dunning");
  const enrollments: string[] = [];
  const invoices: string[] = [];
  for (const userId of users) {
    const id = uuidv7();
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${id}, ${courseId}, ${userId}, 'active', 'self')`;
    enrollments.push(id);
    invoices.push(...(await inTx((c) => issueInvoicesForEnrollment(c, id))));
  }
  return { courseId, users, enrollments, invoices };
}

const stages = async (invoiceId: string) => (await db.sql<{ stage: string }[]>`select stage from invoice_reminders where invoice_id = ${invoiceId} order by stage`).map((r) => r.stage);
const lateFees = async (invoiceId: string) =>
  db.sql<{ amount_minor: string; instalment_seq: number; source_key: string }[]>`select amount_minor, instalment_seq, source_key from ledger_entries where invoice_id = ${invoiceId} and kind = 'late-fee'`;
const events = async (type: string, invoiceOrEnrollmentId: string) =>
  (await db.sql<{ data: Record<string, unknown> }[]>`select data from outbox where type = ${type} and aggregate_id = ${invoiceOrEnrollmentId}`).map((r) => r.data);
const notices = async (userId: string) => (await db.sql<{ template: string }[]>`select template from notifications where user_id = ${userId} order by created_at, template`).map((r) => r.template);

it("reminds before the due date, notices the overdue instalment, charges the late fee after the grace days and suspends, each once, and a payment reinstates", async () => {
  at(0);
  const { users, enrollments, invoices } = await billedLearners(2, {
    lateFeeKind: "percent",
    lateFeeValue: 500,
    graceDays: 2,
    plan: [
      { amountMinor: 30_001, dueAfterDays: 10 },
      { amountMinor: 29_999, dueAfterDays: 40 },
    ],
  });
  const [late, punctual] = [0, 1].map((i) => ({ userId: users[i]!, enrollmentId: enrollments[i]!, invoiceId: invoices[i]! }));
  // The punctual learner pays the first instalment before any reminder.
  await inTx((c) => recordManualPayment(c, { invoiceId: punctual!.invoiceId, method: "bank-transfer", amountMinor: 30_001, currency: "USD", reference: "TX-1" }));

  at(5);
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 0, overdue: 0, lateFees: 0, suspended: 0 });

  at(8);
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 1, overdue: 0, lateFees: 0, suspended: 0 });
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 0, overdue: 0, lateFees: 0, suspended: 0 });
  expect(await stages(late!.invoiceId)).toEqual(["due-soon:1"]);
  expect(await notices(late!.userId)).toContain("invoice-due-soon");
  expect(await notices(punctual!.userId)).not.toContain("invoice-due-soon");

  at(11);
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 0, overdue: 1, lateFees: 0, suspended: 0 });
  expect(await events("invoice.overdue", late!.invoiceId)).toEqual([expect.objectContaining({ seq: 1, amountDueMinor: 30_001, currency: "USD", userId: late!.userId })]);
  expect(await lateFees(late!.invoiceId)).toEqual([]);

  // Past the grace days and the suspension point: two runs at once charge one fee and suspend once.
  at(13.5);
  const runs = await Promise.all([runDunning(ctx(), options), runDunning(ctx(), options)]);
  expect(runs.reduce((s, r) => s + r.lateFees, 0)).toBe(1);
  expect(runs.reduce((s, r) => s + r.suspended, 0)).toBe(1);
  expect(runs.reduce((s, r) => s + r.overdue + r.dueSoon, 0)).toBe(0);
  // 5% of 30,001 is 1,500.05: half up to 1,500.
  expect(await lateFees(late!.invoiceId)).toEqual([{ amount_minor: "1500", instalment_seq: 1, source_key: `late-fee:${late!.invoiceId}:1` }]);
  expect(await stages(late!.invoiceId)).toEqual(["due-soon:1", "overdue:1", "suspended:1"]);
  expect(await events("enrollment.suspended", late!.enrollmentId)).toEqual([expect.objectContaining({ invoiceId: late!.invoiceId })]);
  const [suspended] = await db.sql<{ status: string }[]>`select status from enrollments where id = ${late!.enrollmentId}`;
  expect(suspended?.status).toBe("suspended");
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 0, overdue: 0, lateFees: 0, suspended: 0 });
  expect(await stages(punctual!.invoiceId)).toEqual([]);

  // The learner's notices say what is owed, the late fee included.
  const [overdueEvent] = await db.sql<{ id: string; data: { seq: number; dueAt: string; amountDueMinor: number } }[]>`select id, data from outbox where type = 'invoice.overdue' and aggregate_id = ${late!.invoiceId}`;
  const [notice] = await dunningNotices(db.db, overdueEvent!.id, "https://app.example.test", { kind: "overdue", invoiceId: late!.invoiceId, ...overdueEvent!.data });
  expect(notice?.template).toBe("invoice-overdue-late-fee");
  expect(notice?.email?.text).toContain("$15.00");
  const [suspendedNotice] = await dunningNotices(db.db, uuidv7(), "https://app.example.test", { kind: "suspended", invoiceId: late!.invoiceId, at: clock.toISOString() });
  expect(suspendedNotice?.template).toBe("enrollment-suspended");
  expect(suspendedNotice?.email?.text).toContain("$315.01");

  // Paying the overdue instalment and its fee reinstates the enrollment.
  const paid = await inTx((c) => recordManualPayment(c, { invoiceId: late!.invoiceId, method: "cash", amountMinor: 31_501, currency: "USD", reference: "R-7" }));
  expect(paid.ok).toBe(true);
  const [reinstated] = await db.sql<{ status: string }[]>`select status from enrollments where id = ${late!.enrollmentId}`;
  expect(reinstated?.status).toBe("active");
  expect(await events("enrollment.promoted", late!.enrollmentId)).toEqual([expect.objectContaining({ from: "suspended" })]);

  // The second instalment has its own stages later.
  at(38);
  expect(await runDunning(ctx(), options)).toEqual({ dueSoon: 2, overdue: 0, lateFees: 0, suspended: 0 });
});

it("charges a fixed late fee in the run that finds the instalment overdue, and not on a paid invoice", async () => {
  at(0);
  const { users, invoices } = await billedLearners(2, { lateFeeKind: "fixed", lateFeeValue: 2_500, graceDays: 0, plan: [{ amountMinor: 10_000, dueAfterDays: 1 }] });
  await inTx((c) => recordManualPayment(c, { invoiceId: invoices[1]!, method: "cash", amountMinor: 10_000, currency: "USD", reference: "R-1" }));
  at(2);
  expect(await runDunning(ctx(), { ...options, suspendAfterDays: 0 })).toEqual({ dueSoon: 0, overdue: 1, lateFees: 1, suspended: 0 });
  expect(await events("invoice.overdue", invoices[0]!)).toEqual([expect.objectContaining({ amountDueMinor: 12_500 })]);
  expect((await lateFees(invoices[0]!)).map((f) => f.amount_minor)).toEqual(["2500"]);
  expect(await lateFees(invoices[1]!)).toEqual([]);
  expect(await notices(users[1]!)).toEqual([]);
  at(30);
  expect(await runDunning(ctx(), { ...options, suspendAfterDays: 0 })).toEqual({ dueSoon: 0, overdue: 0, lateFees: 0, suspended: 0 });
});

it("does not lock the invoice of an instalment already paid: a run goes past an invoice another transaction holds", async () => {
  at(0);
  const { invoices } = await billedLearners(1, { lateFeeKind: "none", lateFeeValue: 0, graceDays: 0, plan: [{ amountMinor: 10_000, dueAfterDays: 1 }, { amountMinor: 10_000, dueAfterDays: 60 }] });
  const invoiceId = invoices[0]!;
  await inTx((c) => recordManualPayment(c, { invoiceId, method: "bank-transfer", amountMinor: 10_000, currency: "USD", reference: "TX-PAID" }));
  at(5);
  // The paid first instalment is past due (a candidate every run), the invoice still open: another transaction holds it.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = db.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from invoices where id = ${invoiceId} for update`);
    locked();
    await held;
  });
  await isLocked;
  try {
    const outcome = await Promise.race([runDunning(ctx(), options), new Promise((r) => setTimeout(() => r("blocked"), 3000))]);
    expect(outcome).not.toBe("blocked");
  } finally {
    release();
    await holder;
  }
});
