import { and, eq, ne, sql } from "drizzle-orm";
import { type Invoice, paymentAttempts, type PaymentMethod, payments, refunds } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { fail, ok, type Result } from "../shared/result.js";
import { lockInvoice, lockLearnerInvoices, moveCredit, postLedgerEntries } from "./ledger.js";
import type { ProviderPayment } from "./payment-provider.js";
import { settleInvoices } from "./settle.js";

export type Payment = typeof payments.$inferSelect;

/** What a payment the provider reports can be refused for (the webhook's 422s). */
export type ProviderPaymentError = "WEBHOOK_EVENT_UNKNOWN_INVOICE" | "CURRENCY_MISMATCH" | "PAYMENT_AMOUNT_INVALID";
export type ManualPaymentError = "INVOICE_NOT_FOUND" | "INVOICE_NOT_PAYABLE" | "CURRENCY_MISMATCH" | "PAYMENT_AMOUNT_INVALID" | "PAYMENT_DUPLICATE";

const validAmount = (amountMinor: number) => Number.isSafeInteger(amountMinor) && amountMinor > 0;

interface NewPayment {
  method: PaymentMethod;
  amountMinor: number;
  currency: string;
  providerPaymentId?: string;
  reference?: string;
  receivedAt: Date;
}

/**
 * Records money received for an (already locked) invoice: the payment row, its ledger posting, the invoice's and
 * enrollment's settlement, `payment.received`, and any overpayment moved onto the learner's other open invoices
 * in the currency. A provider payment is recorded once per provider payment id: a second report finds it and
 * changes nothing (`created: false`).
 */
async function receive(ctx: DomainContext, invoice: Invoice, input: NewPayment): Promise<{ payment: Payment; created: boolean }> {
  const id = ctx.newId();
  const [inserted] = await ctx.db
    .insert(payments)
    .values({
      id,
      invoiceId: invoice.id,
      userId: invoice.userId,
      method: input.method,
      currency: input.currency,
      amountMinor: input.amountMinor,
      providerPaymentId: input.providerPaymentId ?? null,
      reference: input.reference ?? null,
      receivedAt: input.receivedAt,
      recordedByUserId: ctx.actor.userId,
    })
    // Any unique index: the provider payment id, or a manual payment's (invoice, method, reference).
    .onConflictDoNothing()
    .returning();
  if (!inserted) {
    const [existing] = input.providerPaymentId
      ? await ctx.db.select().from(payments).where(eq(payments.providerPaymentId, input.providerPaymentId))
      : await ctx.db
          .select()
          .from(payments)
          .where(and(eq(payments.invoiceId, invoice.id), eq(payments.method, input.method), eq(payments.reference, input.reference ?? "")));
    if (!existing) throw new Error("payment conflict without a payment");
    return { payment: existing, created: false };
  }
  await postLedgerEntries(ctx, [
    {
      userId: invoice.userId,
      currency: invoice.currency,
      kind: "payment",
      amountMinor: -input.amountMinor,
      invoiceId: invoice.id,
      paymentId: id,
      sourceKey: `payment:${id}`,
      description: input.method === "stripe" ? `Card payment for ${invoice.number}` : `${input.method === "cash" ? "Cash" : "Bank transfer"} payment for ${invoice.number}`,
      occurredAt: input.receivedAt,
    },
  ]);
  await settleInvoices(ctx, [invoice.id]);
  await recordEvent(ctx, {
    type: "payment.received",
    aggregateType: "invoice",
    aggregateId: invoice.id,
    courseId: invoice.courseId,
    data: { paymentId: id, invoiceId: invoice.id, userId: invoice.userId, method: input.method, currency: input.currency, amountMinor: input.amountMinor, receivedAt: input.receivedAt.toISOString() },
  });
  await spreadCredit(ctx, invoice.userId, invoice.currency);
  return { payment: inserted, created: true };
}

/**
 * Moves what the learner holds as credit in the currency (an overpaid invoice) onto their other open invoices,
 * oldest due first, and settles those. An overpayment with nothing else owed stays as credit.
 */
export async function spreadCredit(ctx: DomainContext, userId: string, currency: string): Promise<void> {
  // Every invoice it may touch (the open ones credit goes to, the overpaid ones it comes from), locked in id order
  // before anything is read; callers came through lockInvoice, which holds these already.
  const open = (await lockLearnerInvoices(ctx.db, userId, currency))
    .filter((i) => i.status === "open")
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (open.length === 0) return;
  const credited = [...(await moveCredit(ctx, userId, currency, open.map((i) => i.id))).keys()];
  if (credited.length > 0) await settleInvoices(ctx, credited);
}

/**
 * Records a provider payment (a succeeded PaymentIntent) read from the provider, once per its id. What the provider
 * says is checked like any input: the invoice must exist, the currency be the invoice's, the amount a positive
 * whole number. A payment that has not succeeded is not money: nothing is recorded (`null`).
 */
export async function recordProviderPayment(ctx: DomainContext, provider: string, payment: ProviderPayment): Promise<Result<Payment | null, ProviderPaymentError>> {
  if (payment.status !== "succeeded") return ok(null);
  const [known] = await ctx.db.select().from(payments).where(eq(payments.providerPaymentId, payment.id));
  if (known) return ok(known);
  const invoiceId = payment.metadata.invoiceId ?? "";
  const invoice = await lockInvoice(ctx.db, invoiceId);
  if (!invoice) return fail("WEBHOOK_EVENT_UNKNOWN_INVOICE", `The payment ${payment.id} names no invoice of this installation.`);
  const currency = payment.currency.toUpperCase();
  if (currency !== invoice.currency) return fail("CURRENCY_MISMATCH", `The payment is in ${currency}; the invoice is in ${invoice.currency}.`);
  if (!validAmount(payment.amountMinor)) return fail("PAYMENT_AMOUNT_INVALID", "The payment's amount is not a positive whole number of minor units.");
  const { payment: recorded } = await receive(ctx, invoice, {
    method: "stripe",
    amountMinor: payment.amountMinor,
    currency,
    providerPaymentId: payment.id,
    // When the provider took the money (the reconciliation's period is counted by it), not when we heard of it.
    receivedAt: Number.isFinite(payment.createdAt.getTime()) ? payment.createdAt : ctx.now(),
  });
  const attemptId = payment.metadata.attemptId ?? "";
  if (UUID_PATTERN.test(attemptId)) {
    await ctx.db
      .update(paymentAttempts)
      .set({ status: "completed", updatedAt: ctx.now() })
      .where(and(eq(paymentAttempts.id, attemptId), eq(paymentAttempts.invoiceId, invoice.id), ne(paymentAttempts.status, "completed")));
  }
  return ok(recorded);
}

export interface ManualPaymentInput {
  invoiceId: string;
  method: "bank-transfer" | "cash";
  amountMinor: number;
  currency: string;
  reference: string;
  receivedAt?: Date | undefined;
}

/**
 * A bank transfer or cash the bursar received, with its reference (the transfer's reference, the cash receipt's
 * number; once per invoice: a second recording is PAYMENT_DUPLICATE) (audited). A paid invoice may still take one
 * (it becomes credit); a void one may not.
 */
export async function recordManualPayment(ctx: DomainContext, input: ManualPaymentInput): Promise<Result<Payment, ManualPaymentError>> {
  const invoice = await lockInvoice(ctx.db, input.invoiceId);
  if (!invoice) return fail("INVOICE_NOT_FOUND");
  if (invoice.status === "void") return fail("INVOICE_NOT_PAYABLE", "The invoice was cancelled by a credit note.");
  if (input.currency !== invoice.currency) return fail("CURRENCY_MISMATCH", `The invoice is in ${invoice.currency}.`);
  if (!validAmount(input.amountMinor)) return fail("PAYMENT_AMOUNT_INVALID");
  const { payment, created } = await receive(ctx, invoice, { method: input.method, amountMinor: input.amountMinor, currency: input.currency, reference: input.reference, receivedAt: input.receivedAt ?? ctx.now() });
  if (!created) return fail("PAYMENT_DUPLICATE", `A ${input.method === "cash" ? "cash payment with receipt" : "bank transfer with reference"} ${input.reference} is already recorded for this invoice.`, { paymentId: payment.id });
  await recordAudit(ctx, {
    action: "payment.recorded",
    targetType: "payment",
    targetId: payment.id,
    details: { invoiceId: invoice.id, method: input.method, amountMinor: input.amountMinor, currency: input.currency, reference: input.reference },
  });
  return ok(payment);
}

/** What is left to refund of a payment: its amount less refunds made or under way. */
export async function refundableMinor(ctx: DomainContext, payment: Payment): Promise<number> {
  const [row] = await ctx.db
    .select({ refunded: sql<string>`coalesce(sum(${refunds.amountMinor}), 0)` })
    .from(refunds)
    .where(and(eq(refunds.paymentId, payment.id), ne(refunds.status, "failed")));
  return payment.amountMinor - Number(row?.refunded ?? 0);
}
