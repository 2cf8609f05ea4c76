import { and, eq, isNull, sql } from "drizzle-orm";
import { ledgerEntries, payments, refunds } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { fail, ok, type Result } from "../shared/result.js";
import { creditNoteOn } from "./credit-notes.js";
import { invoiceStandings, lockInvoice, postLedgerEntries } from "./ledger.js";
import { type PaymentProvider, type ProviderRefund, ProviderRefused } from "./payment-provider.js";
import { type Payment, refundableMinor, spreadCredit } from "./payments.js";
import { settleInvoices } from "./settle.js";

export type Refund = typeof refunds.$inferSelect;

export type RefundError = "PAYMENTS_NOT_CONFIGURED" | "PAYMENT_NOT_FOUND" | "REFUND_EXCEEDS_PAYMENT" | "PAYMENT_AMOUNT_INVALID" | "PAYMENT_PROVIDER_REFUSED" | "IDEMPOTENCY_KEY_REUSED";
/** What a refund the provider reports can be refused for (the webhook's 422s). */
export type ProviderRefundError = "CURRENCY_MISMATCH" | "PAYMENT_AMOUNT_INVALID" | "REFUND_EXCEEDS_PAYMENT";

export interface RefundInput {
  paymentId: string;
  amountMinor: number;
  reason: string;
  /** `provider`: through the provider (its payments only; the default for them); `manual`: money given back by hand. */
  method?: "provider" | "manual" | undefined;
  reference?: string | undefined;
  /** `<caller>:<Idempotency-Key>`: the same key finds the refund it made (a retry after a timeout asks nothing new). */
  requestKey?: string | undefined;
  /** Also take back what the invoice asks (a credit note for the part the refund re-opens). Default: yes if the invoice is paid, else no (the refund is then owed again). */
  cancelCharge?: boolean | undefined;
}

/** The payment, locked (after its invoice): refunds of one payment are decided one at a time. */
async function lockPayment(ctx: DomainContext, paymentId: string): Promise<Payment | undefined> {
  const [found] = await ctx.db.select({ invoiceId: payments.invoiceId }).from(payments).where(eq(payments.id, paymentId));
  if (!found) return undefined;
  await lockInvoice(ctx.db, found.invoiceId);
  const [payment] = await ctx.db.select().from(payments).where(eq(payments.id, paymentId)).for("update");
  return payment;
}

/**
 * The bursar's refund of (part of) a payment: never more than what is left of it, pending refunds included (nothing
 * is asked of the provider then). A manual refund is recorded and completed in one transaction. Through the
 * provider, in three steps so a timeout or a crash never refunds twice: (1) a `pending` row is committed, its limit
 * checked under the invoice and payment locks; (2) the provider is asked with the idempotency key `refund:<rowId>`,
 * outside any transaction; (3) a second transaction completes the row (unless the webhook, which finds the row by
 * the `refundId` it carries, already did). A refusal marks the row failed. An outage leaves it pending: the request
 * retried with the same `requestKey` (the caller's Idempotency-Key) finds the row and asks again with the same key,
 * and Stripe answers with the refund it already made; the `refund.created` webhook completes it too. `ctx.db` must
 * be the pool (this opens its own transactions). Audited.
 */
export async function refundPayment(ctx: DomainContext, provider: PaymentProvider | null, input: RefundInput): Promise<Result<Refund, RefundError>> {
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) return fail("PAYMENT_AMOUNT_INVALID");
  const prepared = await ctx.db.transaction(async (db): Promise<Result<{ refund: Refund; payment: Payment }, RefundError>> => {
    const tx = { ...ctx, db };
    const payment = await lockPayment(tx, input.paymentId);
    if (!payment) return fail("PAYMENT_NOT_FOUND");
    if (input.requestKey) {
      const [earlier] = await db.select().from(refunds).where(and(eq(refunds.paymentId, payment.id), eq(refunds.requestKey, input.requestKey)));
      if (earlier) {
        if (earlier.amountMinor !== input.amountMinor) return fail("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key made a refund of another amount.");
        return ok({ refund: earlier, payment });
      }
    }
    const left = await refundableMinor(tx, payment);
    if (input.amountMinor > left) {
      return fail("REFUND_EXCEEDS_PAYMENT", `At most ${left} minor units of this payment can be refunded.`, { refundableMinor: left });
    }
    const held = await heldByInvoice(tx, payment.invoiceId);
    if (input.amountMinor > held) {
      return fail(
        "REFUND_EXCEEDS_PAYMENT",
        `At most ${Math.max(0, held)} minor units of this payment can be refunded: the rest was applied as credit to another invoice of the learner (refund it from the payment there, or credit-note that invoice first).`,
        { refundableMinor: Math.max(0, held) },
      );
    }
    const method = input.method ?? (payment.providerPaymentId ? "provider" : "manual");
    if (method === "provider" && !payment.providerPaymentId) return fail("PAYMENT_PROVIDER_REFUSED", "This payment was not made through the payment provider: refund it as manual.");
    if (method === "provider" && !provider) return fail("PAYMENTS_NOT_CONFIGURED", "Online payments are off: refund it as manual, or set the Stripe key.");
    const id = ctx.newId();
    const [refund] = await db
      .insert(refunds)
      .values({
        id,
        paymentId: payment.id,
        invoiceId: payment.invoiceId,
        userId: payment.userId,
        method,
        currency: payment.currency,
        amountMinor: input.amountMinor,
        reference: input.reference ?? null,
        reason: input.reason,
        status: method === "manual" ? "succeeded" : "pending",
        requestKey: input.requestKey ?? null,
        cancelCharge: input.cancelCharge ?? null,
        recordedByUserId: ctx.actor.userId,
      })
      .returning();
    if (!refund) throw new Error("refund insert returned nothing");
    if (refund.status === "succeeded") await completeRefund(tx, payment, refund);
    await recordAudit(tx, {
      action: "payment.refunded",
      targetType: "payment",
      targetId: payment.id,
      details: { refundId: id, method, amountMinor: input.amountMinor, currency: payment.currency, reference: input.reference ?? null },
    });
    return ok({ refund, payment });
  });
  if (!prepared.ok) return prepared;
  const { refund, payment } = prepared.value;
  if (refund.status !== "pending" || refund.method !== "provider") return ok(refund);
  if (!provider) return fail("PAYMENTS_NOT_CONFIGURED", "Online payments are off: the pending refund is finished once the Stripe key is set.");
  let providerRefund: ProviderRefund;
  try {
    providerRefund = await provider.refund({
      paymentId: payment.providerPaymentId!,
      amountMinor: refund.amountMinor,
      idempotencyKey: `refund:${refund.id}`,
      metadata: { refundId: refund.id, paymentId: payment.id, invoiceId: payment.invoiceId },
    });
  } catch (err) {
    if (!(err instanceof ProviderRefused)) throw err;
    // Refused: no money moved; the row no longer counts against the payment.
    await ctx.db
      .update(refunds)
      .set({ status: "failed", updatedAt: ctx.now() })
      .where(and(eq(refunds.id, refund.id), eq(refunds.status, "pending")));
    return fail("PAYMENT_PROVIDER_REFUSED", err.message);
  }
  return ctx.db.transaction(async (db) => {
    const tx = { ...ctx, db };
    const locked = await lockPayment(tx, payment.id);
    if (!locked) throw new Error(`payment ${payment.id} vanished`);
    const [current] = await db.select().from(refunds).where(eq(refunds.id, refund.id));
    if (!current || current.status !== "pending") return ok(current ?? refund);
    const status = providerRefund.status === "succeeded" ? "succeeded" : providerRefund.status === "failed" || providerRefund.status === "canceled" ? "failed" : "pending";
    const [updated] = await db.update(refunds).set({ status, providerRefundId: providerRefund.id, updatedAt: ctx.now() }).where(eq(refunds.id, refund.id)).returning();
    if (!updated) throw new Error("refund update returned nothing");
    if (updated.status === "succeeded") await completeRefund(tx, locked, updated);
    return ok(updated);
  });
}

/**
 * The money an invoice still holds: what was paid on it less what was refunded (pending refunds included) and the
 * credit moved out of it to the learner's other invoices. A refund never gives back money another invoice uses.
 */
async function heldByInvoice(ctx: DomainContext, invoiceId: string): Promise<number> {
  const [row] = await ctx.db.execute<{ held: string }>(sql`
    select coalesce((select -sum(amount_minor) from ${ledgerEntries} where invoice_id = ${invoiceId}::uuid and kind in ('payment', 'refund', 'credit-out')), 0)
      - coalesce((select sum(amount_minor) from ${refunds} where invoice_id = ${invoiceId}::uuid and status = 'pending'), 0) as held`);
  return Number(row?.held ?? 0);
}

/**
 * A refund the provider reports (webhook): ours (found by provider id, or by the `refundId` we gave it) is completed
 * once it has succeeded; one made at the provider itself is recorded. Never twice: the provider refund id is unique.
 */
export async function recordProviderRefund(ctx: DomainContext, payment: Payment, reported: ProviderRefund): Promise<Result<Refund | null, ProviderRefundError>> {
  const locked = await lockPayment(ctx, payment.id);
  if (!locked) throw new Error(`payment ${payment.id} vanished`);
  const [byProviderId] = await ctx.db.select().from(refunds).where(eq(refunds.providerRefundId, reported.id));
  const ourId = reported.metadata.refundId ?? "";
  const [ours] = byProviderId ? [byProviderId] : UUID_PATTERN.test(ourId) ? await ctx.db.select().from(refunds).where(and(eq(refunds.id, ourId), eq(refunds.paymentId, locked.id), isNull(refunds.providerRefundId))) : [];
  if (ours) {
    if (ours.status !== "pending") return ok(ours);
    const status = reported.status === "succeeded" ? "succeeded" : reported.status === "failed" || reported.status === "canceled" ? "failed" : "pending";
    const [updated] = await ctx.db
      .update(refunds)
      .set({ status, providerRefundId: reported.id, updatedAt: ctx.now() })
      .where(and(eq(refunds.id, ours.id), eq(refunds.status, "pending")))
      .returning();
    if (updated?.status === "succeeded") await completeRefund(ctx, locked, updated);
    return ok(updated ?? ours);
  }
  if (reported.status !== "succeeded") return ok(null);
  if (reported.currency.toUpperCase() !== locked.currency) return fail("CURRENCY_MISMATCH", `The refund is in ${reported.currency.toUpperCase()}; the payment was in ${locked.currency}.`);
  if (!Number.isSafeInteger(reported.amountMinor) || reported.amountMinor <= 0) return fail("PAYMENT_AMOUNT_INVALID");
  const left = await refundableMinor(ctx, locked);
  if (reported.amountMinor > left) return fail("REFUND_EXCEEDS_PAYMENT", `The provider's refund ${reported.id} is larger than what is left of the payment here (${left}).`);
  const [refund] = await ctx.db
    .insert(refunds)
    .values({
      id: ctx.newId(),
      paymentId: locked.id,
      invoiceId: locked.invoiceId,
      userId: locked.userId,
      method: "provider",
      currency: locked.currency,
      amountMinor: reported.amountMinor,
      providerRefundId: reported.id,
      reason: "Refunded at the payment provider",
      status: "succeeded",
    })
    .onConflictDoNothing({ target: refunds.providerRefundId })
    .returning();
  if (!refund) return ok(null);
  await completeRefund(ctx, locked, refund);
  return ok(refund);
}

/**
 * The money side of a succeeded refund: its ledger posting, a credit note for the part that takes back what the
 * invoice asks (none for the part that gives back credit, i.e. an overpayment), the settlement and
 * `payment.refunded`. The invoice is locked by the caller.
 */
async function completeRefund(ctx: DomainContext, payment: Payment, refund: Refund): Promise<void> {
  const before = (await invoiceStandings(ctx.db, [payment.invoiceId])).get(payment.invoiceId);
  if (!before) throw new Error("a refund's invoice is missing");
  const creditHeld = Math.max(0, -before.outstandingMinor);
  await postLedgerEntries(ctx, [
    {
      userId: payment.userId,
      currency: payment.currency,
      kind: "refund",
      amountMinor: refund.amountMinor,
      invoiceId: payment.invoiceId,
      paymentId: payment.id,
      refundId: refund.id,
      sourceKey: `refund:${refund.id}`,
      description: `Refund of a payment for ${before.invoice.number}`,
    },
  ]);
  // Forgiving debt is a choice (cancelCharge), never a side effect: by default only a paid invoice is reduced.
  const cancelCharge = refund.cancelCharge ?? before.invoice.status === "paid";
  const takesBack = cancelCharge ? Math.min(refund.amountMinor - Math.min(refund.amountMinor, creditHeld), Math.max(0, before.chargedMinor)) : 0;
  if (takesBack > 0) {
    // The standing read above is still what the credit note checks (a refund posting is money, not what is asked),
    // and a refund completes once (its pending → succeeded update): it has no credit note yet.
    await creditNoteOn(ctx, before, { amountMinor: takesBack, reason: refund.reason, refundId: refund.id, issuedByUserId: ctx.actor.userId });
  } else {
    await settleInvoices(ctx, [payment.invoiceId]);
  }
  await recordEvent(ctx, {
    type: "payment.refunded",
    aggregateType: "invoice",
    aggregateId: payment.invoiceId,
    courseId: before.invoice.courseId,
    data: { refundId: refund.id, paymentId: payment.id, invoiceId: payment.invoiceId, userId: payment.userId, currency: payment.currency, amountMinor: refund.amountMinor },
  });
  await spreadCredit(ctx, payment.userId, payment.currency);
}
