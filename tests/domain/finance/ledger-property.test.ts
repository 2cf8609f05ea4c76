import { sql } from "drizzle-orm";
import fc from "fast-check";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Transaction } from "../../../domain/db/client.js";
import { creditUnpaidInvoicesOfEnrollment, issueCreditNote } from "../../../domain/finance/credit-notes.js";
import { runDunning } from "../../../domain/finance/dunning.js";
import { issueInvoicesForEnrollment } from "../../../domain/finance/invoices.js";
import { applyAvailableCredit, balancesOf, invoiceStandings } from "../../../domain/finance/ledger.js";
import { percentOf } from "../../../domain/finance/money.js";
import { recordManualPayment } from "../../../domain/finance/payments.js";
import { refundPayment } from "../../../domain/finance/refunds.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { insertPublishedCourse } from "../../support/enrollment-fixtures.js";

// The ledger's books balance whatever happens: for random sequences of issuing (with and without a discount or an
// instalment plan), paying (part, exact, over), refunding (within and beyond what was paid), crediting, late fees
// (through the dunning run), moving credit and ending enrollments (what was paid becomes credit), the learner's
// entries sum to balancesOf, to the sum of their invoices' outstanding amounts, and to a model kept beside the
// operations; refusals change nothing. Each sequence runs in
// one transaction that is rolled back, on one database, through the domain operations themselves (no HTTP).

const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 1_000);
const DAY = 86_400_000;

interface Course {
  id: string;
  feeId: string;
  currency: string;
  amount: number;
  late: { kind: "none" | "fixed" | "percent"; value: number; graceDays: number };
}

let db: TestDatabase;
const courses: Course[] = [];
beforeAll(async () => {
  db = await createTestDatabase({ max: 4 });
  const terms: { currency: string; amount: number; plan: number[]; late: Course["late"] }[] = [
    { currency: "USD", amount: 100_000, plan: [], late: { kind: "none", value: 0, graceDays: 0 } },
    { currency: "USD", amount: 90_001, plan: [30_001, 30_000, 30_000], late: { kind: "percent", value: 550, graceDays: 2 } },
    { currency: "JPY", amount: 50_000, plan: [25_000, 25_000], late: { kind: "fixed", value: 1_000, graceDays: 0 } },
  ];
  for (const [i, t] of terms.entries()) {
    const id = await insertPublishedCourse(db.sql, { capacity: 1_000_000 });
    const feeId = uuidv7();
    await db.sql`insert into fees (id, course_id, name, currency, amount_minor, due_after_days, late_fee_kind, late_fee_value, late_fee_grace_days)
      values (${feeId}, ${id}, ${`Fee ${i}`}, ${t.currency}, ${t.amount}, 10, ${t.late.kind}, ${t.late.value}, ${t.late.graceDays})`;
    for (const [s, amount] of t.plan.entries()) {
      await db.sql`insert into fee_instalments (fee_id, seq, amount_minor, due_after_days) values (${feeId}, ${s + 1}, ${amount}, ${10 + 30 * s})`;
    }
    courses.push({ id, feeId, currency: t.currency, amount: t.amount, late: t.late });
  }
});
afterAll(async () => {
  await db?.drop();
});

type Op =
  | { kind: "issue"; course: number; discount: "none" | "percent" | "fixed" | "waiver" }
  | { kind: "pay"; invoice: number; how: "partial" | "exact" | "over"; share: number }
  | { kind: "pay-wrong-currency"; invoice: number }
  | { kind: "refund"; payment: number; share: number; beyond: boolean }
  | { kind: "credit-note"; invoice: number; share: number; beyond: boolean }
  | { kind: "time-passes"; days: number }
  | { kind: "move-credit"; invoice: number }
  | { kind: "end"; invoice: number };

const share = fc.double({ min: 0.01, max: 1, noNaN: true });
const index = fc.nat({ max: 7 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("issue" as const), course: fc.nat({ max: 2 }), discount: fc.constantFrom("none", "none", "percent", "fixed", "waiver") }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("pay" as const), invoice: index, how: fc.constantFrom("partial", "exact", "over"), share }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pay-wrong-currency" as const), invoice: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), payment: index, share, beyond: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("credit-note" as const), invoice: index, share, beyond: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("time-passes" as const), days: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("move-credit" as const), invoice: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("end" as const), invoice: index }) },
);

class Rollback extends Error {}

interface Books {
  count: number;
  sum: number;
}

const books = async (tx: Transaction, userId: string): Promise<Books> => {
  const [row] = await tx.execute<{ count: string; sum: string }>(
    sql`select count(*) as count, coalesce(sum(amount_minor), 0) as sum from ledger_entries where user_id = ${userId}::uuid`,
  );
  return { count: Number(row!.count), sum: Number(row!.sum) };
};

/** Runs one sequence in a transaction, checks the books, and rolls everything back. */
async function runSequence(ops: readonly Op[]): Promise<void> {
  const start = new Date("2032-01-10T08:00:00.000Z");
  let clock = start;
  try {
    await db.db.transaction(async (tx) => {
      const ctx: DomainContext = { db: tx, now: () => clock, newId: uuidv7, actor: { userId: null, requestId: null, clientIp: null, traceparent: null } };
      const userId = uuidv7();
      await tx.execute(sql`insert into users (id, email, display_name) values (${userId}::uuid, ${`${userId}@example.test`}, 'Property learner')`);
      const invoiceIds: string[] = [];
      const enrollmentOf = new Map<string, string>();
      const paymentIds: { id: string; amount: number; refunded: number; currency: string }[] = [];
      const enrolled = new Set<number>();
      // What the books should say per currency, kept from the operations' own amounts.
      const model = new Map<string, number>();
      const add = (currency: string, amount: number) => model.set(currency, (model.get(currency) ?? 0) + amount);
      const unchanged = async (before: Books) => expect(await books(tx, userId)).toEqual(before);
      const standing = async (id: string) => (await invoiceStandings(tx, [id])).get(id)!;

      for (const o of ops) {
        switch (o.kind) {
          case "issue": {
            const course = courses[o.course % courses.length]!;
            if (enrolled.has(o.course % courses.length)) break;
            enrolled.add(o.course % courses.length);
            if (o.discount !== "none") {
              const value = o.discount === "percent" ? 1_250 : o.discount === "fixed" ? 7_777 : 0;
              await tx.execute(sql`insert into fee_discounts (id, fee_id, user_id, kind, value, reason) values (${uuidv7()}::uuid, ${course.feeId}::uuid, ${userId}::uuid, ${o.discount}, ${value}, 'property')`);
            }
            const enrollmentId = uuidv7();
            await tx.execute(sql`insert into enrollments (id, course_id, user_id, status, source) values (${enrollmentId}::uuid, ${course.id}::uuid, ${userId}::uuid, 'active', 'self')`);
            const issued = await issueInvoicesForEnrollment(ctx, enrollmentId);
            expect(issued).toHaveLength(1);
            invoiceIds.push(...issued);
            enrollmentOf.set(issued[0]!, enrollmentId);
            // What the invoice must ask, from the fee's terms and the discount (not read back from the invoice).
            const discount = o.discount === "percent" ? percentOf(course.amount, 1_250) : o.discount === "fixed" ? Math.min(7_777, course.amount) : o.discount === "waiver" ? course.amount : 0;
            const [row] = await tx.execute<{ total_minor: string }>(sql`select total_minor from invoices where id = ${issued[0]!}::uuid`);
            expect(Number(row!.total_minor)).toBe(course.amount - discount);
            add(course.currency, course.amount - discount);
            break;
          }
          case "pay": {
            if (invoiceIds.length === 0) break;
            const s = await standing(invoiceIds[o.invoice % invoiceIds.length]!);
            const owed = Math.max(s.outstandingMinor, 0);
            const amount = o.how === "exact" ? owed : o.how === "partial" ? Math.floor(owed * o.share) : owed + 1 + Math.floor(10_000 * o.share);
            if (amount <= 0) break;
            const before = s.invoice.status === "void" ? await books(tx, userId) : null;
            const paid = await recordManualPayment(ctx, { invoiceId: s.invoice.id, method: "bank-transfer", amountMinor: amount, currency: s.invoice.currency, reference: `P-${uuidv7()}` });
            if (before) {
              expect(paid.ok).toBe(false);
              await unchanged(before);
              break;
            }
            if (!paid.ok) throw new Error(`payment refused: ${JSON.stringify(paid)}`);
            paymentIds.push({ id: paid.value.id, amount, refunded: 0, currency: s.invoice.currency });
            add(s.invoice.currency, -amount);
            break;
          }
          case "pay-wrong-currency": {
            if (invoiceIds.length === 0) break;
            const s = await standing(invoiceIds[o.invoice % invoiceIds.length]!);
            const before = await books(tx, userId);
            const paid = await recordManualPayment(ctx, { invoiceId: s.invoice.id, method: "cash", amountMinor: 100, currency: s.invoice.currency === "USD" ? "EUR" : "USD", reference: "X" });
            expect(paid.ok).toBe(false);
            await unchanged(before);
            break;
          }
          case "refund": {
            if (paymentIds.length === 0) break;
            const p = paymentIds[o.payment % paymentIds.length]!;
            const left = p.amount - p.refunded;
            const amount = o.beyond ? left + 1 + Math.floor(1_000 * o.share) : Math.floor(left * o.share);
            if (amount <= 0) break;
            const before = await books(tx, userId);
            const refunded = await refundPayment(ctx, null, { paymentId: p.id, amountMinor: amount, reason: "property", method: "manual", reference: "R" });
            if (o.beyond) {
              expect(refunded.ok).toBe(false);
              await unchanged(before);
              break;
            }
            // Within what was paid, a refund is still refused for the part that became credit and paid another invoice
            // (the domain says how much it can give back); the refusal changes nothing.
            if (!refunded.ok && refunded.error.code === "REFUND_EXCEEDS_PAYMENT") {
              expect(Number(refunded.error.extensions?.refundableMinor)).toBeLessThan(amount);
              await unchanged(before);
              break;
            }
            if (!refunded.ok) throw new Error(`refund refused: ${JSON.stringify(refunded)}`);
            p.refunded += amount;
            add(p.currency, amount);
            // Money given back that was not held as credit takes back what the invoice asked, by a credit note.
            const notes = await tx.execute<{ amount_minor: string }>(sql`select amount_minor from credit_notes where refund_id = ${refunded.value.id}::uuid`);
            for (const n of notes) add(p.currency, -Number(n.amount_minor));
            break;
          }
          case "credit-note": {
            if (invoiceIds.length === 0) break;
            const s = await standing(invoiceIds[o.invoice % invoiceIds.length]!);
            const amount = o.beyond ? Math.max(s.chargedMinor, 0) + 1 : Math.floor(s.chargedMinor * o.share);
            if (amount <= 0) break;
            const before = o.beyond ? await books(tx, userId) : null;
            const credited = await issueCreditNote(ctx, { invoiceId: s.invoice.id, amountMinor: amount, reason: "property" });
            if (before) {
              expect(credited.ok).toBe(false);
              await unchanged(before);
              break;
            }
            if (!credited.ok) throw new Error(`credit note refused: ${JSON.stringify(credited)}`);
            add(s.invoice.currency, -amount);
            break;
          }
          case "time-passes": {
            clock = new Date(clock.getTime() + o.days * DAY);
            const before = await tx.execute<{ id: string }>(sql`select id from ledger_entries where user_id = ${userId}::uuid and kind = 'late-fee'`);
            const run = await runDunning(ctx, { dueSoonDays: 3, suspendAfterDays: 20, appUrl: "https://app.example.test" });
            const fees = await tx.execute<{ id: string; amount_minor: string; currency: string; invoice_id: string; instalment_seq: number }>(
              sql`select id, amount_minor, currency, invoice_id, instalment_seq from ledger_entries where user_id = ${userId}::uuid and kind = 'late-fee'`,
            );
            const fresh = fees.filter((f) => !before.some((b) => b.id === f.id));
            expect(fresh).toHaveLength(run.lateFees);
            for (const f of fresh) {
              const s = await standing(f.invoice_id);
              const course = courses.find((c) => c.feeId === s.invoice.feeId)!;
              const part = s.instalments.find((p) => p.seq === f.instalment_seq)!;
              expect(Number(f.amount_minor)).toBe(course.late.kind === "fixed" ? course.late.value : percentOf(part.amountMinor, course.late.value));
              add(f.currency, Number(f.amount_minor));
            }
            break;
          }
          case "end": {
            // The enrollment is dropped: whatever its invoice still asks is credited, what was paid becomes credit.
            if (invoiceIds.length === 0) break;
            const id = invoiceIds[o.invoice % invoiceIds.length]!;
            await tx.execute(sql`update enrollments set status = 'dropped' where id = ${enrollmentOf.get(id)!}::uuid`);
            const notes = await creditUnpaidInvoicesOfEnrollment(ctx, enrollmentOf.get(id)!, "property");
            for (const n of notes) add(n.currency, -n.amountMinor);
            const after = await standing(id);
            expect(after.chargedMinor).toBeLessThanOrEqual(0);
            expect(after.outstandingMinor).toBeLessThanOrEqual(0);
            break;
          }
          case "move-credit": {
            if (invoiceIds.length === 0) break;
            const s = await standing(invoiceIds[o.invoice % invoiceIds.length]!);
            const before = await books(tx, userId);
            const moved = await applyAvailableCredit(ctx, userId, s.invoice.currency, s.invoice.id);
            expect(moved).toBeGreaterThanOrEqual(0);
            expect((await books(tx, userId)).sum).toBe(before.sum);
            break;
          }
        }
      }

      // The books: entries = balancesOf = Σ outstanding of the invoices = the model, per currency; nothing unattributed.
      const entries = await tx.execute<{ currency: string; amount_minor: string; invoice_id: string | null }>(
        sql`select currency, amount_minor, invoice_id from ledger_entries where user_id = ${userId}::uuid`,
      );
      const sums = new Map<string, number>();
      for (const e of entries) {
        const amount = Number(e.amount_minor);
        expect(Number.isSafeInteger(amount) && amount !== 0).toBe(true);
        expect(e.invoice_id).not.toBeNull();
        sums.set(e.currency, (sums.get(e.currency) ?? 0) + amount);
      }
      const balances = new Map((await balancesOf(tx, userId)).map((b) => [b.currency, b.balanceMinor]));
      const outstanding = new Map<string, number>();
      for (const s of (await invoiceStandings(tx, invoiceIds)).values()) {
        outstanding.set(s.invoice.currency, (outstanding.get(s.invoice.currency) ?? 0) + s.outstandingMinor);
        const expected = s.outstandingMinor > 0 ? "open" : s.chargedMinor <= 0 && s.creditedMinor > 0 ? "void" : "paid";
        // Neither a void nor a paid invoice has anything still owed on it.
        if (s.invoice.status !== "open") expect(s.outstandingMinor, `${s.invoice.status} invoice ${s.invoice.number}`).toBeLessThanOrEqual(0);
        expect(s.invoice.status, `invoice ${s.invoice.number} (charged ${s.chargedMinor}, outstanding ${s.outstandingMinor})`).toBe(expected);
        expect(s.instalments.reduce((t, p) => t + p.outstandingMinor, 0)).toBeLessThanOrEqual(Math.max(s.outstandingMinor, 0));
      }
      for (const currency of new Set([...sums.keys(), ...balances.keys(), ...outstanding.keys(), ...model.keys()])) {
        const want = model.get(currency) ?? 0;
        expect({ currency, ledger: sums.get(currency) ?? 0, balance: balances.get(currency) ?? 0, invoices: outstanding.get(currency) ?? 0 }).toEqual({
          currency,
          ledger: want,
          balance: want,
          invoices: want,
        });
      }
      // Refunds never exceed their payments.
      const over = await tx.execute(sql`
        select p.id from payments p where p.user_id = ${userId}::uuid
          and p.amount_minor < (select coalesce(sum(r.amount_minor), 0) from refunds r where r.payment_id = p.id and r.status <> 'failed')`);
      expect(over).toHaveLength(0);
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
}

it(`keeps the ledger equal to the balance and to the invoices for ${RUNS} random operation sequences`, { timeout: 300_000 }, async () => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), (ops) => runSequence(ops)),
    { numRuns: RUNS },
  );
  // Each sequence rolled back: nothing is left behind.
  const [left] = await db.sql<{ n: string }[]>`select count(*) as n from ledger_entries`;
  expect(Number(left!.n)).toBe(0);
  console.info(`ledger property: ${RUNS} sequences in ${Math.round(performance.now() - started)} ms`);
});
