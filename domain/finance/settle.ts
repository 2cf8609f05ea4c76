import { and, eq, inArray, sql } from "drizzle-orm";
import { enrollments, fees, invoices } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { creditNoteOn } from "./credit-notes.js";
import { overdueInstalments } from "./instalments.js";
import { type InvoiceStanding, invoiceStandings, lockInvoices } from "./ledger.js";

export interface Settlement {
  /** Invoices that became paid now (`invoice.paid` recorded for each). */
  paid: string[];
  /** Enrollments that became active now (`enrollment.promoted` from pending-payment or suspended). */
  activated: string[];
}

/**
 * What every change of money calls, in its transaction, after its ledger postings: brings the invoices' status in
 * line with their ledger (paid once nothing is owed; open again after a refund; void once credit notes took back
 * everything asked), then the enrollments they pay for:
 * - `pending-payment` becomes active once every invoice of the enrollment whose fee asks for payment first has what
 *   it asks (`full`: nothing owed; `first-instalment`: the first instalment paid);
 * - `suspended` becomes active once none of the enrollment's invoices has an overdue instalment.
 * A seat released unpaid (`payment-expired`) is not taken back: what is paid on an ended enrollment (released,
 * dropped, removed), before or after it ended, is credited back and stays as credit.
 */
export async function settleInvoices(ctx: DomainContext, invoiceIds: readonly string[]): Promise<Settlement> {
  const settlement: Settlement = { paid: [], activated: [] };
  if (invoiceIds.length === 0) return settlement;
  const now = ctx.now();
  // A no-op when the caller locked them already (as every money change should, before deciding anything); when it
  // did not, this still orders two settlements of one invoice so the later one reads the earlier one's postings.
  await lockInvoices(ctx.db, invoiceIds);
  const standings = await invoiceStandings(ctx.db, invoiceIds);
  // Those credited now were settled by their credit notes: the rest go on as usual.
  for (const id of await creditEndedEnrollments(ctx, standings)) standings.delete(id);
  for (const s of standings.values()) {
    const next = statusFor(s);
    if (next === s.invoice.status) continue;
    const [changed] = await ctx.db
      .update(invoices)
      .set({ status: next, paidAt: next === "paid" ? now : null, updatedAt: now })
      .where(and(eq(invoices.id, s.invoice.id), eq(invoices.status, s.invoice.status)))
      .returning({ id: invoices.id });
    if (changed && next === "paid") {
      settlement.paid.push(s.invoice.id);
      await recordEvent(ctx, {
        type: "invoice.paid",
        aggregateType: "invoice",
        aggregateId: s.invoice.id,
        courseId: s.invoice.courseId,
        data: { invoiceId: s.invoice.id, userId: s.invoice.userId, courseId: s.invoice.courseId, paidAt: now.toISOString() },
      });
    }
  }
  const enrollmentIds = [...new Set([...standings.values()].map((s) => s.invoice.enrollmentId))];
  settlement.activated = await activateSettledEnrollments(ctx, enrollmentIds, now);
  return settlement;
}

/** Enrollments that ended: a seat they no longer hold is not charged for. */
const ENDED_STATUSES = ["payment-expired", "dropped", "removed"] as const;

/**
 * Money paid on an invoice whose enrollment has ended (whichever came first: the end or the payment) must not
 * vanish into a "paid" invoice for a place the learner does not have: what the invoice still asks for is credited
 * (reason "Enrollment ended"), so the money is credit (a balance below zero) the bursar can refund or move on.
 * `creditNoteOn` settles the invoice again; by then it asks for nothing, so this runs once per invoice (no
 * unbounded recursion). Answers the invoices credited.
 */
async function creditEndedEnrollments(ctx: DomainContext, standings: Map<string, InvoiceStanding>): Promise<string[]> {
  const candidates = [...standings.values()].filter((s) => s.settledMinor > 0 && s.chargedMinor > 0);
  if (candidates.length === 0) return [];
  const ended = await ctx.db
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(inArray(enrollments.id, [...new Set(candidates.map((s) => s.invoice.enrollmentId))]), inArray(enrollments.status, [...ENDED_STATUSES])));
  const endedIds = new Set(ended.map((e) => e.id));
  const credited: string[] = [];
  for (const s of candidates) {
    if (!endedIds.has(s.invoice.enrollmentId)) continue;
    await creditNoteOn(ctx, s, { amountMinor: s.chargedMinor, reason: "Enrollment ended" });
    credited.push(s.invoice.id);
  }
  return credited;
}

/**
 * Void once credit notes took back everything asked and nothing is owed on it (what was paid then is credit); an
 * invoice that asks for nothing but still has money owed on it (credit moved out, then refunded) stays open. A zero
 * invoice is paid at issue.
 */
export function statusFor(s: Pick<InvoiceStanding, "chargedMinor" | "creditedMinor" | "outstandingMinor">): "open" | "paid" | "void" {
  if (s.outstandingMinor > 0) return "open";
  return s.chargedMinor <= 0 && s.creditedMinor > 0 ? "void" : "paid";
}

async function activateSettledEnrollments(ctx: DomainContext, enrollmentIds: string[], now: Date): Promise<string[]> {
  if (enrollmentIds.length === 0) return [];
  const held = await ctx.db
    .select({ id: enrollments.id, courseId: enrollments.courseId, userId: enrollments.userId, status: enrollments.status })
    .from(enrollments)
    .where(and(inArray(enrollments.id, enrollmentIds), inArray(enrollments.status, ["pending-payment", "suspended"])));
  if (held.length === 0) return [];
  const billed = await ctx.db
    .select({ id: invoices.id, enrollmentId: invoices.enrollmentId, requirement: fees.requirement })
    .from(invoices)
    .innerJoin(fees, eq(fees.id, invoices.feeId))
    .where(inArray(invoices.enrollmentId, held.map((e) => e.id)));
  const standings = await invoiceStandings(ctx.db, billed.map((b) => b.id));
  const activated: string[] = [];
  for (const e of held) {
    const mine = billed.filter((b) => b.enrollmentId === e.id);
    const ready =
      e.status === "pending-payment"
        ? mine.some((b) => b.requirement !== "none") && mine.every((b) => meetsRequirement(b.requirement, standings.get(b.id)))
        : mine.every((b) => {
            const s = standings.get(b.id);
            return !s || s.invoice.status === "void" || overdueInstalments(s.instalments, now).length === 0;
          });
    if (!ready) continue;
    const [row] = await ctx.db
      .update(enrollments)
      .set({ status: "active", enrolledAt: sql`coalesce(${enrollments.enrolledAt}, ${now.toISOString()}::timestamptz)`, paymentDueAt: null, updatedAt: now })
      .where(and(eq(enrollments.id, e.id), eq(enrollments.status, e.status)))
      .returning({ id: enrollments.id });
    if (!row) continue;
    activated.push(e.id);
    await recordEvent(ctx, {
      type: "enrollment.promoted",
      aggregateType: "enrollment",
      aggregateId: e.id,
      courseId: e.courseId,
      data: { enrollmentId: e.id, courseId: e.courseId, userId: e.userId, from: e.status as "pending-payment" | "suspended" },
    });
  }
  return activated;
}

function meetsRequirement(requirement: string, s: InvoiceStanding | undefined): boolean {
  if (requirement === "none") return true;
  if (!s) return false;
  if (s.outstandingMinor <= 0) return true;
  return requirement === "first-instalment" && (s.instalments[0]?.outstandingMinor ?? 1) <= 0;
}
