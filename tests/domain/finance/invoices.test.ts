import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { creditUnpaidInvoicesOfEnrollment, issueCreditNote } from "../../../domain/finance/credit-notes.js";
import { formatDocumentNumber } from "../../../domain/finance/document-numbers.js";
import { renderFinancePdf } from "../../../domain/finance/invoice-pdf.js";
import { discountAmount, draftInvoice, issueInvoicesForEnrollment } from "../../../domain/finance/invoices.js";
import { applyAvailableCredit, invoiceStandings, lockInvoices, postLedgerEntries } from "../../../domain/finance/ledger.js";
import { overdueInstalments } from "../../../domain/finance/instalments.js";
import { listInvoices } from "../../../domain/finance/list-invoices.js";
import { settleInvoices, statusFor } from "../../../domain/finance/settle.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { inTransactionOf } from "../../support/domain-database.js";
import { insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 20 });
});
afterAll(async () => {
  await db?.drop();
});

const clock = new Date("2031-03-01T09:00:00.000Z");
const DAY = 86_400_000;

function inTx<T>(op: (ctx: DomainContext) => Promise<T>): Promise<T> {
  return inTransactionOf(db, { db: db.db, now: () => clock, newId: uuidv7, actor: { userId: null, requestId: null, clientIp: null, traceparent: null } })(op);
}

async function insertFee(courseId: string, options: { amountMinor: number; requirement?: string; currency?: string; plan?: { amountMinor: number; dueAfterDays: number }[] }): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into fees (id, course_id, name, currency, amount_minor, requirement) values (${id}, ${courseId}, 'Tuition', ${options.currency ?? "USD"}, ${options.amountMinor}, ${options.requirement ?? "none"})`;
  for (const [i, p] of (options.plan ?? []).entries()) {
    await db.sql`insert into fee_instalments (fee_id, seq, amount_minor, due_after_days) values (${id}, ${i + 1}, ${p.amountMinor}, ${p.dueAfterDays})`;
  }
  return id;
}

async function insertEnrollments(courseId: string, userIds: string[], status = "active"): Promise<string[]> {
  const ids = userIds.map(() => uuidv7());
  for (const [i, userId] of userIds.entries()) {
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${ids[i]!}, ${courseId}, ${userId}, ${status}, 'self')`;
  }
  return ids;
}

const invoiceNumbers = async (courseId: string) =>
  (await db.sql<{ number: string }[]>`select number from invoices where course_id = ${courseId} order by number`).map((r) => r.number);

describe("draftInvoice (pure)", () => {
  const fee = { name: "Tuition", term: "2031-spring", amountMinor: 100_000, dueAt: null, dueAfterDays: 14 };

  it("rounds a percent discount half up through percentOf and never below zero", () => {
    expect(discountAmount(1_005, { kind: "percent", value: 5_000, reason: "r" })).toBe(503);
    expect(discountAmount(1_000, { kind: "fixed", value: 5_000, reason: "r" })).toBe(1_000);
    expect(discountAmount(1_000, { kind: "waiver", value: 0, reason: "r" })).toBe(1_000);
    expect(discountAmount(1_000, undefined)).toBe(0);
  });

  it("takes the discount off the last instalments and keeps the sum equal to the total", () => {
    const plan = [
      { seq: 1, amountMinor: 40_000, dueAt: null, dueAfterDays: 0 },
      { seq: 2, amountMinor: 30_000, dueAt: null, dueAfterDays: 30 },
      { seq: 3, amountMinor: 30_000, dueAt: null, dueAfterDays: 60 },
    ];
    const d = draftInvoice(fee, plan, { kind: "fixed", value: 45_000, reason: "Scholarship" }, clock);
    expect(d.totalMinor).toBe(55_000);
    expect(d.instalments.map((p) => p.amountMinor)).toEqual([40_000, 15_000, 0]);
    expect(d.instalments.reduce((s, p) => s + p.amountMinor, 0)).toBe(d.totalMinor);
    expect(d.lines).toEqual([
      { description: "Tuition (2031-spring)", amountMinor: 100_000 },
      { description: "Discount: Scholarship", amountMinor: -45_000 },
    ]);
    expect(d.dueAt.getTime()).toBe(clock.getTime() + 60 * DAY);
  });

  it("dates instalments after issue, and a fixed date already past falls due at issue", () => {
    const plan = [
      { seq: 1, amountMinor: 50_000, dueAt: new Date("2030-01-01T00:00:00Z"), dueAfterDays: 0 },
      { seq: 2, amountMinor: 50_000, dueAt: new Date("2031-06-01T00:00:00Z"), dueAfterDays: 0 },
    ];
    const d = draftInvoice(fee, plan, undefined, clock);
    expect(d.instalments.map((p) => p.dueAt.toISOString())).toEqual([clock.toISOString(), "2031-06-01T00:00:00.000Z"]);
    const single = draftInvoice(fee, [], undefined, clock);
    expect(single.instalments).toEqual([{ seq: 1, amountMinor: 100_000, dueAt: new Date(clock.getTime() + 14 * DAY) }]);
  });

  it("renders an invoice PDF the same way every time, whatever the characters", async () => {
    const doc = {
      kind: "invoice" as const,
      number: "INV-2031-000001",
      issuedAt: clock,
      dueAt: clock,
      billToName: "Zoë Łukasiewicz 李",
      billToEmail: "zoe@example.test",
      courseTitle: "Física",
      currency: "JPY",
      lines: [{ description: "Tuition", amountMinor: 120_000 }],
      totalMinor: 120_000,
      instalments: Array.from({ length: 60 }, (_, i) => ({ seq: i + 1, amountMinor: 2_000, dueAt: clock })),
    };
    const a = await renderFinancePdf(doc);
    expect(Buffer.from(a).subarray(0, 4).toString()).toBe("%PDF");
    expect(Buffer.from(await renderFinancePdf(doc)).equals(Buffer.from(a))).toBe(true);
  });

  it("formats numbers with the series, the year and six digits", () => {
    expect(formatDocumentNumber("INV", 2031, 42)).toBe("INV-2031-000042");
    expect(formatDocumentNumber("CN", 2031, 7)).toBe("CN-2031-000007");
  });
});

describe("issueInvoicesForEnrollment", () => {
  it("issues one invoice per (enrollment, fee) however often it is called, with charge and discount postings", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    const feeA = await insertFee(courseId, { amountMinor: 10_001 });
    await insertFee(courseId, { amountMinor: 5_000, currency: "EUR" });
    await db.sql`insert into fee_discounts (id, fee_id, user_id, kind, value, reason) values (${uuidv7()}, ${feeA}, ${userId!}, 'percent', 1500, 'Sibling')`;
    const [enrollmentId] = await insertEnrollments(courseId, [userId!]);
    const first = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    const again = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    expect(first).toHaveLength(2);
    expect(again).toEqual([]);
    const rows = await db.sql<{ fee_id: string; subtotal_minor: string; discount_minor: string; total_minor: string }[]>`
      select fee_id, subtotal_minor, discount_minor, total_minor from invoices where enrollment_id = ${enrollmentId!}`;
    const a = rows.find((r) => r.fee_id === feeA)!;
    // 15% of 10,001 = 1,500.15 → 1,500
    expect([Number(a.subtotal_minor), Number(a.discount_minor), Number(a.total_minor)]).toEqual([10_001, 1_500, 8_501]);
    const ledger = await db.sql<{ kind: string; amount_minor: string }[]>`select kind, amount_minor from ledger_entries where user_id = ${userId!} order by kind, amount_minor`;
    expect(ledger.map((l) => [l.kind, Number(l.amount_minor)])).toEqual([
      ["charge", 5_000],
      ["charge", 10_001],
      ["discount", -1_500],
    ]);
    const events = await db.sql<{ type: string }[]>`select type from outbox where course_id = ${courseId} and type = 'invoice.issued'`;
    expect(events).toHaveLength(2);
  });

  it("issues nothing for a waitlisted enrollment", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    await insertFee(courseId, { amountMinor: 1_000 });
    const [enrollmentId] = await insertEnrollments(courseId, [userId!], "waitlisted");
    expect(await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!))).toEqual([]);
  });

  it("numbers invoices without gaps under concurrency and after a rollback", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 100 });
    const learners = await insertLearners(db.sql, 12);
    await insertFee(courseId, { amountMinor: 2_500 });
    const enrollmentIds = await insertEnrollments(courseId, learners);
    const before = await db.sql<{ last_number: number }[]>`select last_number from document_counters where series = 'INV' and year = 2031`;
    const start = before[0]?.last_number ?? 0;
    // One issue rolls back after taking its number: the number is given back.
    await expect(
      inTx(async (ctx) => {
        await issueInvoicesForEnrollment(ctx, enrollmentIds[0]!);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    // Every enrollment twice, all at once, on parallel connections.
    const results = await Promise.all([...enrollmentIds, ...enrollmentIds].map((id) => inTx((ctx) => issueInvoicesForEnrollment(ctx, id))));
    expect(results.flat()).toHaveLength(12);
    const expected = Array.from({ length: 12 }, (_, i) => formatDocumentNumber("INV", 2031, start + i + 1));
    expect(await invoiceNumbers(courseId)).toEqual(expected);
  });

  it("pays a waived invoice at once, which activates the held seat", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    const feeId = await insertFee(courseId, { amountMinor: 9_900, requirement: "full" });
    await db.sql`insert into fee_discounts (id, fee_id, user_id, kind, value, reason) values (${uuidv7()}, ${feeId}, ${userId!}, 'waiver', 0, 'Staff child')`;
    const [enrollmentId] = await insertEnrollments(courseId, [userId!], "pending-payment");
    const [invoiceId] = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    const [invoice] = await db.sql<{ status: string; total_minor: string }[]>`select status, total_minor from invoices where id = ${invoiceId!}`;
    expect(invoice).toEqual({ status: "paid", total_minor: "0" });
    const [enrollment] = await db.sql<{ status: string }[]>`select status from enrollments where id = ${enrollmentId!}`;
    expect(enrollment!.status).toBe("active");
  });
});

describe("issueCreditNote", () => {
  it("refuses more than the invoice still asks for, and voids it once everything is credited", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    await insertFee(courseId, { amountMinor: 3_000 });
    const [enrollmentId] = await insertEnrollments(courseId, [userId!]);
    const [invoiceId] = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    const tooLarge = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 3_001, reason: "x" }));
    expect(tooLarge.ok ? null : tooLarge.error.code).toBe("CREDIT_NOTE_TOO_LARGE");
    const part = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 1_000, reason: "Goodwill" }));
    expect(part.ok && part.value.invoiceStatus).toBe("open");
    const rest = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 2_000, reason: "Cancelled" }));
    expect(rest.ok && rest.value.invoiceStatus).toBe("void");
    expect(part.ok && rest.ok && Number(rest.value.number.slice(-6)) - Number(part.value.number.slice(-6))).toBe(1);
    const more = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 1, reason: "x" }));
    expect(more.ok ? null : more.error.code).toBe("CREDIT_NOTE_TOO_LARGE");
    const [balance] = await db.sql<{ sum: string }[]>`select sum(amount_minor) from ledger_entries where user_id = ${userId!}`;
    expect(Number(balance!.sum)).toBe(0);
    const voided = await db.sql`select 1 from outbox where type = 'invoice.voided' and aggregate_id = ${invoiceId!}`;
    expect(voided).toHaveLength(1);
  });

  it("answers the first credit note again for the same refund", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    await insertFee(courseId, { amountMinor: 3_000 });
    const [enrollmentId] = await insertEnrollments(courseId, [userId!]);
    const [invoiceId] = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    const refundId = uuidv7();
    const a = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 500, reason: "Refund", refundId }));
    const b = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 500, reason: "Refund", refundId }));
    expect(a.ok && b.ok && [a.value.first, b.value.first, a.value.creditNoteId === b.value.creditNoteId]).toEqual([true, false, true]);
  });
});

describe("listInvoices overdue filter", () => {
  it("agrees with instalmentStates: payments go to the first instalments, credit notes come off the last", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = await insertLearners(db.sql, 1);
    await insertFee(courseId, { amountMinor: 120_000, plan: [{ amountMinor: 40_000, dueAfterDays: 0 }, { amountMinor: 80_000, dueAfterDays: 30 }] });
    const [enrollmentId] = await insertEnrollments(courseId, [userId!]);
    const [invoiceId] = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    const later = new Date(clock.getTime() + 1_000);
    const check = async (expected: boolean) => {
      const listed = (await listInvoices(db.db, { courseId, overdue: true }, { limit: 10 }, later)).map((i) => i.id);
      const standing = (await invoiceStandings(db.db, [invoiceId!])).get(invoiceId!)!;
      expect(overdueInstalments(standing.instalments, later).length > 0).toBe(expected);
      expect(listed).toEqual(expected ? [invoiceId] : []);
    };
    await check(true);
    // Postings straight to the ledger, then settled, as every money change does.
    const post = (kind: "payment" | "refund", amountMinor: number) =>
      inTx(async (ctx) => {
        await postLedgerEntries(ctx, [{ userId: userId!, currency: "USD", kind, amountMinor, invoiceId: invoiceId!, sourceKey: `${kind}:${uuidv7()}`, description: "test" }]);
        await settleInvoices(ctx, [invoiceId!]);
      });
    const pay = (amountMinor: number) => post("payment", -amountMinor);
    await pay(39_999);
    await check(true);
    await pay(1);
    await check(false);
    // The credit note takes the whole second instalment: what is left owed (nothing) is not overdue; a refund makes it so.
    const note = await inTx((ctx) => issueCreditNote(ctx, { invoiceId: invoiceId!, amountMinor: 80_000, reason: "Scholarship" }));
    expect(note.ok).toBe(true);
    await check(false);
    await post("refund", 5_000);
    await check(true);
  });
});

describe("fix round 19: status, ended enrollments, credit moves", () => {
  const post = (userId: string, invoiceId: string, kind: "payment" | "refund" | "credit-out", amountMinor: number) =>
    inTx(async (ctx) => {
      await postLedgerEntries(ctx, [{ userId, currency: "USD", kind, amountMinor, invoiceId, sourceKey: `${kind}:${uuidv7()}`, description: "test" }]);
      await settleInvoices(ctx, [invoiceId]);
    });
  const statusOf = async (invoiceId: string) => (await db.sql<{ status: string }[]>`select status from invoices where id = ${invoiceId}`)[0]!.status;
  const balanceOf = async (userId: string) => Number((await db.sql<{ sum: string }[]>`select coalesce(sum(amount_minor), 0) as sum from ledger_entries where user_id = ${userId}`)[0]!.sum);
  async function billed(amountMinor: number, status = "active", userId?: string) {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const user = userId ?? (await insertLearners(db.sql, 1))[0]!;
    await insertFee(courseId, { amountMinor });
    const [enrollmentId] = await insertEnrollments(courseId, [user], status);
    const [invoiceId] = await inTx((ctx) => issueInvoicesForEnrollment(ctx, enrollmentId!));
    return { userId: user, enrollmentId: enrollmentId!, invoiceId: invoiceId! };
  }

  it("statusFor: void only when nothing is asked and nothing owed; money owed keeps it open", () => {
    expect(statusFor({ chargedMinor: 0, creditedMinor: 3_000, outstandingMinor: 0 })).toBe("void");
    expect(statusFor({ chargedMinor: 0, creditedMinor: 3_000, outstandingMinor: -3_000 })).toBe("void");
    expect(statusFor({ chargedMinor: 0, creditedMinor: 3_000, outstandingMinor: 500 })).toBe("open");
    expect(statusFor({ chargedMinor: 0, creditedMinor: 0, outstandingMinor: 0 })).toBe("paid");
  });

  it("reopens a credited invoice whose credit was moved out and then refunded", async () => {
    const { userId, invoiceId } = await billed(3_000);
    await post(userId, invoiceId, "payment", -3_000);
    const note = await inTx((ctx) => issueCreditNote(ctx, { invoiceId, amountMinor: 3_000, reason: "Cancelled" }));
    expect(note.ok && note.value.invoiceStatus).toBe("void");
    await post(userId, invoiceId, "credit-out", 3_000);
    expect(await statusOf(invoiceId)).toBe("void");
    await post(userId, invoiceId, "refund", 500);
    expect(await statusOf(invoiceId)).toBe("open");
  });

  it("turns a payment on a released seat into credit, whether the release or the payment is seen first", async () => {
    // Released, credited, then paid.
    const a = await billed(3_000, "pending-payment");
    await db.sql`update enrollments set status = 'payment-expired' where id = ${a.enrollmentId}`;
    await inTx((ctx) => creditUnpaidInvoicesOfEnrollment(ctx, a.enrollmentId, "Seat released unpaid"));
    await post(a.userId, a.invoiceId, "payment", -3_000);
    expect([await statusOf(a.invoiceId), await balanceOf(a.userId)]).toEqual(["void", -3_000]);
    // Released, paid before the release is credited (the event comes later): the payment still becomes credit.
    const b = await billed(3_000, "pending-payment");
    await db.sql`update enrollments set status = 'payment-expired' where id = ${b.enrollmentId}`;
    await post(b.userId, b.invoiceId, "payment", -3_000);
    expect([await statusOf(b.invoiceId), await balanceOf(b.userId)]).toEqual(["void", -3_000]);
    expect(await inTx((ctx) => creditUnpaidInvoicesOfEnrollment(ctx, b.enrollmentId, "Seat released unpaid"))).toEqual([]);
    const notes = await db.sql<{ reason: string }[]>`select reason from credit_notes where invoice_id = ${b.invoiceId}`;
    expect(notes.map((n) => n.reason)).toEqual(["Enrollment ended"]);
    expect((await db.sql<{ status: string }[]>`select status from enrollments where id = ${b.enrollmentId}`)[0]!.status).toBe("payment-expired");
  });

  it("credits a paid invoice of a dropped enrollment, so the payment is credit", async () => {
    const { userId, enrollmentId, invoiceId } = await billed(3_000);
    await post(userId, invoiceId, "payment", -3_000);
    expect(await statusOf(invoiceId)).toBe("paid");
    await db.sql`update enrollments set status = 'dropped' where id = ${enrollmentId}`;
    const issued = await inTx((ctx) => creditUnpaidInvoicesOfEnrollment(ctx, enrollmentId, "Enrollment cancelled"));
    expect(issued.map((n) => [n.amountMinor, n.invoiceStatus])).toEqual([[3_000, "void"]]);
    expect(await balanceOf(userId)).toBe(-3_000);
  });

  it("moves credit only after locking the invoice it comes from", async () => {
    const source = await billed(3_000);
    const target = await billed(3_000, "active", source.userId);
    await post(source.userId, source.invoiceId, "payment", -5_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const held = new Promise<void>((r) => (locked = r));
    // A refund of the source holds its lock and takes 1,500 of its 2,000 credit.
    const refund = inTx(async (ctx) => {
      await lockInvoices(ctx.db, [source.invoiceId]);
      locked();
      await gate;
      await postLedgerEntries(ctx, [{ userId: source.userId, currency: "USD", kind: "refund", amountMinor: 1_500, invoiceId: source.invoiceId, sourceKey: `refund:${uuidv7()}`, description: "test" }]);
    });
    await held;
    const moving = inTx((ctx) => applyAvailableCredit(ctx, source.userId, "USD", target.invoiceId));
    await new Promise((r) => setTimeout(r, 200));
    release();
    await refund;
    expect(await moving).toBe(500);
    const standings = await invoiceStandings(db.db, [source.invoiceId]);
    expect(standings.get(source.invoiceId)!.outstandingMinor).toBe(0);
  });
});
