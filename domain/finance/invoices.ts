import { and, asc, eq, inArray, isNull, notExists, or, sql } from "drizzle-orm";
import { enrollments, type Fee, feeDiscounts, type FeeRequirement, feeInstalments, fees, type InvoiceLine, invoiceInstalments, invoices, users } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { nextDocumentNumbers } from "./document-numbers.js";
import { applyAvailableCredit, type LedgerPosting, postLedgerEntries } from "./ledger.js";
import { percentOf } from "./money.js";
import { settleInvoices } from "./settle.js";

const DAY_MS = 86_400_000;

/** The enrollments that are billed: those that hold a seat the learner has taken (an offer not yet taken is not). */
const BILLED_STATUSES = ["active", "pending-payment", "suspended"] as const;

export interface FeePlanPart {
  seq: number;
  amountMinor: number;
  dueAt: Date | null;
  dueAfterDays: number;
}

export interface LiveDiscount {
  kind: "percent" | "fixed" | "waiver";
  value: number;
  reason: string;
}

export interface InvoiceDraft {
  subtotalMinor: number;
  discountMinor: number;
  totalMinor: number;
  lines: InvoiceLine[];
  instalments: { seq: number; amountMinor: number; dueAt: Date }[];
  /** The last instalment's due date. */
  dueAt: Date;
}

/** What a discount takes off a fee's amount: percent (basis points, half up), fixed, or the whole (waiver); never more than the amount. */
export function discountAmount(amountMinor: number, discount: LiveDiscount | undefined): number {
  if (!discount) return 0;
  const off = discount.kind === "waiver" ? amountMinor : discount.kind === "percent" ? percentOf(amountMinor, discount.value) : discount.value;
  return Math.min(amountMinor, Math.max(0, off));
}

/**
 * What an invoice for the fee says when issued at `issuedAt`: the fee as a line, the learner's discount as a line,
 * and the instalments from the fee's plan (fixed dates, or days after issue; a date already past is due at issue).
 * The discount comes off the last instalments first, the rule `instalmentStates` applies to later reductions, so
 * what falls due soonest stays as planned. Pure.
 */
export function draftInvoice(
  fee: Pick<Fee, "name" | "term" | "amountMinor" | "dueAt" | "dueAfterDays">,
  plan: readonly FeePlanPart[],
  discount: LiveDiscount | undefined,
  issuedAt: Date,
  hold?: { requirement: FeeRequirement; until: Date | null },
): InvoiceDraft {
  const subtotalMinor = fee.amountMinor;
  const discountMinor = discountAmount(subtotalMinor, discount);
  const dueOf = (dueAt: Date | null, days: number) => {
    const at = dueAt ?? new Date(issuedAt.getTime() + days * DAY_MS);
    return at.getTime() < issuedAt.getTime() ? issuedAt : at;
  };
  const parts =
    plan.length > 0
      ? [...plan].sort((a, b) => a.seq - b.seq).map((p) => ({ seq: p.seq, amountMinor: p.amountMinor, dueAt: dueOf(p.dueAt, p.dueAfterDays) }))
      : [{ seq: 1, amountMinor: subtotalMinor, dueAt: dueOf(fee.dueAt, fee.dueAfterDays) }];
  // A held seat is released at `until`: what the fee asks first may not fall due after that (the invoice would say
  // "due in 14 days" while the seat goes in 48 hours). The whole fee for `full`, the first instalment otherwise.
  if (hold?.until && hold.requirement !== "none") {
    const cap = new Date(Math.max(hold.until.getTime(), issuedAt.getTime()));
    for (const p of hold.requirement === "full" ? parts : parts.slice(0, 1)) if (p.dueAt.getTime() > cap.getTime()) p.dueAt = cap;
  }
  let off = discountMinor;
  for (let i = parts.length - 1; i >= 0 && off > 0; i--) {
    const take = Math.min(parts[i]!.amountMinor, off);
    parts[i]!.amountMinor -= take;
    off -= take;
  }
  const lines: InvoiceLine[] = [{ description: fee.term ? `${fee.name} (${fee.term})` : fee.name, amountMinor: subtotalMinor }];
  if (discountMinor > 0) lines.push({ description: discount!.kind === "waiver" ? `Waiver: ${discount!.reason}` : `Discount: ${discount!.reason}`, amountMinor: -discountMinor });
  const dueAt = new Date(Math.max(...parts.map((p) => p.dueAt.getTime())));
  return { subtotalMinor, discountMinor, totalMinor: subtotalMinor - discountMinor, lines, instalments: parts, dueAt };
}

/**
 * Issues, in the caller's transaction, the invoice of every fee that applies to the enrollment (the course's
 * fees and its section's, not retired) and has none for it yet, so a held seat's invoices all exist together.
 * Exactly once per (enrollment, fee): the enrollment row is locked first, so two deliveries of one event take
 * turns and the second finds the invoices there. Then credit the learner holds moves onto them, they are
 * settled (a zero invoice is paid at once, which activates a waived held seat) and `invoice.issued` is recorded.
 * Returns the ids issued now (none for an enrollment that is not billed: waitlisted, offered or ended).
 */
export async function issueInvoicesForEnrollment(ctx: DomainContext, enrollmentId: string): Promise<string[]> {
  const [enrollment] = await ctx.db
    .select({ id: enrollments.id, courseId: enrollments.courseId, userId: enrollments.userId, sectionId: enrollments.sectionId, status: enrollments.status, paymentDueAt: enrollments.paymentDueAt })
    .from(enrollments)
    .where(eq(enrollments.id, enrollmentId))
    .for("update");
  if (!enrollment || !(BILLED_STATUSES as readonly string[]).includes(enrollment.status)) return [];
  const due = await ctx.db
    .select()
    .from(fees)
    .where(
      and(
        eq(fees.courseId, enrollment.courseId),
        isNull(fees.retiredAt),
        enrollment.sectionId ? or(isNull(fees.sectionId), eq(fees.sectionId, enrollment.sectionId)) : isNull(fees.sectionId),
        notExists(ctx.db.select({ one: sql`1` }).from(invoices).where(and(eq(invoices.enrollmentId, enrollment.id), eq(invoices.feeId, fees.id)))),
      ),
    )
    .orderBy(asc(fees.createdAt), asc(fees.id));
  if (due.length === 0) return [];
  const feeIds = due.map((f) => f.id);
  const [plans, discounts, [learner]] = await Promise.all([
    ctx.db.select().from(feeInstalments).where(inArray(feeInstalments.feeId, feeIds)),
    ctx.db
      .select({ feeId: feeDiscounts.feeId, kind: feeDiscounts.kind, value: feeDiscounts.value, reason: feeDiscounts.reason })
      .from(feeDiscounts)
      .where(and(inArray(feeDiscounts.feeId, feeIds), eq(feeDiscounts.userId, enrollment.userId), isNull(feeDiscounts.revokedAt))),
    ctx.db.select({ displayName: users.displayName, email: users.email }).from(users).where(eq(users.id, enrollment.userId)),
  ]);
  const now = ctx.now();
  const numbers = await nextDocumentNumbers(ctx.db, "INV", now, due.length);
  const drafts = due.map((fee, i) => ({
    id: ctx.newId(),
    fee,
    number: numbers[i]!,
    draft: draftInvoice(
      fee,
      plans.filter((p) => p.feeId === fee.id),
      discounts.find((d) => d.feeId === fee.id),
      now,
      enrollment.status === "pending-payment" ? { requirement: fee.requirement, until: enrollment.paymentDueAt } : undefined,
    ),
  }));
  const inserted = await ctx.db
    .insert(invoices)
    .values(
      drafts.map(({ id, fee, number, draft }) => ({
        id,
        number: number.number,
        year: number.year,
        userId: enrollment.userId,
        enrollmentId: enrollment.id,
        feeId: fee.id,
        courseId: enrollment.courseId,
        currency: fee.currency,
        subtotalMinor: draft.subtotalMinor,
        discountMinor: draft.discountMinor,
        totalMinor: draft.totalMinor,
        lines: draft.lines,
        billToName: learner?.displayName ?? "",
        billToEmail: learner?.email ?? "",
        status: "open" as const,
        issuedAt: now,
        dueAt: draft.dueAt,
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing({ target: [invoices.enrollmentId, invoices.feeId] })
    .returning({ id: invoices.id });
  // Anything else would leave a gap in the numbers taken above: roll back and let the delivery be retried.
  if (inserted.length !== drafts.length) throw new Error(`invoices: another issue of enrollment ${enrollment.id} raced this one`);
  await ctx.db.insert(invoiceInstalments).values(drafts.flatMap(({ id, draft }) => draft.instalments.map((p) => ({ invoiceId: id, ...p }))));
  const postings: LedgerPosting[] = drafts.flatMap(({ id, fee, number, draft }) => {
    const base = { userId: enrollment.userId, currency: fee.currency, invoiceId: id, occurredAt: now };
    const out: LedgerPosting[] = [{ ...base, kind: "charge", amountMinor: draft.subtotalMinor, sourceKey: `charge:${id}`, description: `Invoice ${number.number}` }];
    if (draft.discountMinor > 0) out.push({ ...base, kind: "discount", amountMinor: -draft.discountMinor, sourceKey: `discount:${id}`, description: `Discount on ${number.number}` });
    return out;
  });
  await postLedgerEntries(ctx, postings);
  for (const { id, fee, number, draft } of drafts) {
    await recordEvent(ctx, {
      type: "invoice.issued",
      aggregateType: "invoice",
      aggregateId: id,
      courseId: enrollment.courseId,
      data: {
        invoiceId: id,
        number: number.number,
        userId: enrollment.userId,
        courseId: enrollment.courseId,
        enrollmentId: enrollment.id,
        currency: fee.currency,
        totalMinor: draft.totalMinor,
        dueAt: draft.dueAt.toISOString(),
      },
    });
    if (draft.totalMinor > 0) await applyAvailableCredit(ctx, enrollment.userId, fee.currency, id);
  }
  const ids = drafts.map((d) => d.id);
  await settleInvoices(ctx, ids);
  return ids;
}
