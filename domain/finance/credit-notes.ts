import { and, asc, eq, inArray } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import { creditNotes, invoices } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { nextDocumentNumber } from "./document-numbers.js";
import { type InvoiceStanding, invoiceStandings, postLedgerEntries } from "./ledger.js";
import { settleInvoices } from "./settle.js";

export interface CreditNoteInput {
  invoiceId: string;
  amountMinor: number;
  reason: string;
  /** The refund the credit note documents: one credit note per refund (a second call answers the first). */
  refundId?: string | null;
  issuedByUserId?: string | null;
  /** When the caller states it (the bursar's route), it must be the invoice's. */
  currency?: string;
}

export interface IssuedCreditNote {
  creditNoteId: string;
  number: string;
  invoiceId: string;
  currency: string;
  amountMinor: number;
  /** The invoice's status after the credit note (void once nothing is asked and nothing was paid). */
  invoiceStatus: "open" | "paid" | "void";
  /** False when the refund already had its credit note (nothing was issued now). */
  first: boolean;
}

export type CreditNoteError = "INVOICE_NOT_FOUND" | "CREDIT_NOTE_TOO_LARGE" | "CURRENCY_MISMATCH";

/**
 * Takes back part or all of an issued invoice (which is never edited): a numbered credit note, a `credit-note`
 * ledger posting, `credit-note.issued`, then the invoice is settled (and `invoice.voided` recorded when that
 * leaves it void). Never more than the invoice still asks for (its charges less what was credited already). The
 * invoice row is locked first, so two credit notes on one invoice cannot both pass that check.
 */
export async function issueCreditNote(ctx: DomainContext, input: CreditNoteInput): Promise<Result<IssuedCreditNote, CreditNoteError>> {
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) throw new RangeError("a credit note is a positive whole amount");
  if (!UUID_PATTERN.test(input.invoiceId)) return fail("INVOICE_NOT_FOUND");
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, input.invoiceId)).for("update");
  if (!invoice) return fail("INVOICE_NOT_FOUND");
  if (input.currency !== undefined && input.currency !== invoice.currency) return fail("CURRENCY_MISMATCH", `the invoice is in ${invoice.currency}`);
  if (input.refundId) {
    const [existing] = await ctx.db.select().from(creditNotes).where(eq(creditNotes.refundId, input.refundId));
    if (existing) {
      return ok({ creditNoteId: existing.id, number: existing.number, invoiceId: existing.invoiceId, currency: existing.currency, amountMinor: existing.amountMinor, invoiceStatus: invoice.status, first: false });
    }
  }
  const standing = (await invoiceStandings(ctx.db, [invoice.id])).get(invoice.id)!;
  if (input.amountMinor > standing.chargedMinor) {
    return fail("CREDIT_NOTE_TOO_LARGE", `the invoice asks for ${Math.max(0, standing.chargedMinor)} minor units now`, { creditableMinor: Math.max(0, standing.chargedMinor) });
  }
  return ok(await creditNoteOn(ctx, standing, input));
}

/**
 * The credit note itself, on an invoice the caller has locked and whose standing it read under that lock (and, for
 * a refund, knows has no credit note yet): for the finance module's own callers that read the standing already
 * (an ended enrollment's invoices, a refund); never a route's (issueCreditNote checks what it is given).
 */
export async function creditNoteOn(ctx: DomainContext, standing: InvoiceStanding, input: Pick<CreditNoteInput, "amountMinor" | "reason" | "refundId" | "issuedByUserId">): Promise<IssuedCreditNote> {
  const { invoice } = standing;
  // The caller read the amount under the lock from what this checks: a breach is a broken invariant.
  if (input.amountMinor <= 0 || input.amountMinor > standing.chargedMinor) throw new Error(`credit note of ${input.amountMinor} on invoice ${invoice.id}: it asks for ${standing.chargedMinor}`);
  const now = ctx.now();
  const { number, year } = await nextDocumentNumber(ctx.db, "CN", now);
  const id = ctx.newId();
  await ctx.db.insert(creditNotes).values({
    id,
    number,
    year,
    invoiceId: invoice.id,
    userId: invoice.userId,
    currency: invoice.currency,
    amountMinor: input.amountMinor,
    reason: input.reason,
    refundId: input.refundId ?? null,
    issuedAt: now,
    issuedByUserId: input.issuedByUserId ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await postLedgerEntries(ctx, [
    {
      userId: invoice.userId,
      currency: invoice.currency,
      kind: "credit-note",
      amountMinor: -input.amountMinor,
      invoiceId: invoice.id,
      creditNoteId: id,
      sourceKey: `credit-note:${id}`,
      description: `Credit note ${number} for ${invoice.number}`,
      occurredAt: now,
    },
  ]);
  await recordEvent(ctx, {
    type: "credit-note.issued",
    aggregateType: "credit-note",
    aggregateId: id,
    courseId: invoice.courseId,
    data: { creditNoteId: id, number, invoiceId: invoice.id, userId: invoice.userId, currency: invoice.currency, amountMinor: input.amountMinor },
  });
  await settleInvoices(ctx, [invoice.id]);
  const [after] = await ctx.db.select({ status: invoices.status }).from(invoices).where(eq(invoices.id, invoice.id));
  const invoiceStatus = after?.status ?? invoice.status;
  if (invoiceStatus === "void" && invoice.status !== "void") {
    await recordEvent(ctx, {
      type: "invoice.voided",
      aggregateType: "invoice",
      aggregateId: invoice.id,
      courseId: invoice.courseId,
      data: { invoiceId: invoice.id, userId: invoice.userId, courseId: invoice.courseId, creditNoteId: id },
    });
  }
  return { creditNoteId: id, number, invoiceId: invoice.id, currency: invoice.currency, amountMinor: input.amountMinor, invoiceStatus, first: true };
}

/** The bursar's credit note (the route's one domain call): issued and audited together. */
export async function creditInvoice(ctx: DomainContext, input: CreditNoteInput): Promise<Result<IssuedCreditNote, CreditNoteError>> {
  const result = await issueCreditNote(ctx, { ...input, issuedByUserId: input.issuedByUserId ?? ctx.actor.userId });
  if (result.ok && result.value.first) {
    await recordAudit(ctx, {
      action: "invoice.credited",
      targetType: "invoice",
      targetId: result.value.invoiceId,
      details: { creditNoteId: result.value.creditNoteId, number: result.value.number, amountMinor: result.value.amountMinor, currency: result.value.currency },
    });
  }
  return result;
}

/**
 * When an enrollment ends (dropped, or its held seat released): every open or paid invoice of it gets a credit
 * note for what it still asks for, so nothing stays asked of the learner for a place they no longer have, and what
 * they paid becomes credit (a balance below zero; refunding it is the bursar's decision) instead of vanishing into
 * a paid invoice. A redelivery finds nothing asked and issues nothing.
 */
export async function creditUnpaidInvoicesOfEnrollment(ctx: DomainContext, enrollmentId: string, reason: string): Promise<IssuedCreditNote[]> {
  const live = await ctx.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.enrollmentId, enrollmentId), inArray(invoices.status, ["open", "paid"])))
    .orderBy(asc(invoices.id))
    // locked (in id order, as lockInvoices does) before their standing is read: a payment landing in between
    // would make the credit note too large
    .for("update");
  if (live.length === 0) return [];
  const standings = await invoiceStandings(ctx.db, live.map((o) => o.id));
  const issued: IssuedCreditNote[] = [];
  for (const { id } of live) {
    const s = standings.get(id);
    // Money on it: everything it asks is credited (the payment becomes credit); none: what is still owed.
    const amount = !s ? 0 : s.settledMinor > 0 ? s.chargedMinor : Math.min(s.outstandingMinor, s.chargedMinor);
    if (!s || amount <= 0) continue;
    issued.push(await creditNoteOn(ctx, s, { amountMinor: amount, reason }));
  }
  return issued;
}
