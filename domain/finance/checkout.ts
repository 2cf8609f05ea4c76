import { and, desc, eq, gt, isNotNull, max } from "drizzle-orm";
import { paymentAttempts } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { invoiceStandings } from "./ledger.js";
import type { PaymentProvider } from "./payment-provider.js";
import { lockInvoice } from "./payments.js";

/** How long a checkout stays open at the provider (Stripe allows 30 minutes to 24 hours). */
const CHECKOUT_TTL_MS = 60 * 60_000;
/** An open checkout closer than this to its end is not handed out again: the learner would not finish in time. */
const REUSE_MARGIN_MS = 10 * 60_000;

export interface CheckoutInput {
  invoiceId: string;
  /** The learner paying: only their own invoice (someone else's is not found, as if it did not exist). */
  userId: string;
  /** `next-instalment`: what is due now (the first unpaid instalment); `all`: everything still owed. */
  scope: "next-instalment" | "all";
  successUrl: string;
  cancelUrl: string;
}

export interface Checkout {
  url: string;
  expiresAt: Date;
  amountMinor: number;
  currency: string;
}

export type CheckoutError = "INVOICE_NOT_FOUND" | "INVOICE_NOT_PAYABLE";

/**
 * A checkout page at the provider for the learner's invoice. An open, unexpired attempt for the same amount is
 * handed out again (two clicks make one checkout); otherwise attempt n+1 is recorded and committed first, and the
 * provider is asked with the idempotency key `invoice:<id>:attempt:<n>`, outside any transaction (no row lock is
 * held while the provider answers). A provider failure leaves the attempt without a session; the next try is n+2.
 */
export async function startCheckout(ctx: DomainContext, provider: PaymentProvider, input: CheckoutInput): Promise<Result<Checkout, CheckoutError>> {
  const now = ctx.now();
  const prepared = await ctx.db.transaction(async (db) => {
    const tx = { ...ctx, db };
    const invoice = await lockInvoice(tx, input.invoiceId);
    if (!invoice || invoice.userId !== input.userId) return fail("INVOICE_NOT_FOUND");
    if (invoice.status !== "open") return fail("INVOICE_NOT_PAYABLE", `The invoice is ${invoice.status}.`);
    const standing = (await invoiceStandings(db, [invoice.id])).get(invoice.id)!;
    const next = standing.instalments.find((i) => i.outstandingMinor > 0);
    const amountMinor = input.scope === "all" || !next ? standing.outstandingMinor : next.outstandingMinor;
    if (amountMinor <= 0) return fail("INVOICE_NOT_PAYABLE", "Nothing is owed on the invoice.");
    const [reusable] = await db
      .select()
      .from(paymentAttempts)
      .where(
        and(
          eq(paymentAttempts.invoiceId, invoice.id),
          eq(paymentAttempts.status, "open"),
          eq(paymentAttempts.amountMinor, amountMinor),
          isNotNull(paymentAttempts.url),
          gt(paymentAttempts.expiresAt, new Date(now.getTime() + REUSE_MARGIN_MS)),
        ),
      )
      .orderBy(desc(paymentAttempts.attempt))
      .limit(1);
    if (reusable?.url && reusable.expiresAt) return ok({ reuse: { url: reusable.url, expiresAt: reusable.expiresAt, amountMinor, currency: invoice.currency } });
    const [last] = await db.select({ n: max(paymentAttempts.attempt) }).from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoice.id));
    const attempt = (last?.n ?? 0) + 1;
    const attemptId = ctx.newId();
    const expiresAt = new Date(now.getTime() + CHECKOUT_TTL_MS);
    await db.insert(paymentAttempts).values({ id: attemptId, invoiceId: invoice.id, attempt, provider: provider.name, amountMinor, currency: invoice.currency, status: "open", expiresAt });
    return ok({ create: { attemptId, attempt, amountMinor, expiresAt, invoice } });
  });
  if (!prepared.ok) return prepared;
  if ("reuse" in prepared.value) return ok(prepared.value.reuse);
  const { attemptId, attempt, amountMinor, expiresAt, invoice } = prepared.value.create;
  const session = await provider.createCheckout({
    idempotencyKey: `invoice:${invoice.id}:attempt:${attempt}`,
    invoiceId: invoice.id,
    attemptId,
    userId: invoice.userId,
    amountMinor,
    currency: invoice.currency,
    description: `Invoice ${invoice.number}`,
    customerEmail: invoice.billToEmail,
    successUrl: input.successUrl,
    cancelUrl: input.cancelUrl,
    expiresAt,
  });
  await ctx.db
    .update(paymentAttempts)
    .set({ providerSessionId: session.sessionId, url: session.url, expiresAt: session.expiresAt, updatedAt: ctx.now() })
    .where(eq(paymentAttempts.id, attemptId));
  return ok({ url: session.url, expiresAt: session.expiresAt, amountMinor, currency: invoice.currency });
}

/** The provider closed a checkout unpaid: its attempt is expired (a completed one stays completed). */
export async function expireCheckout(ctx: DomainContext, sessionId: string): Promise<void> {
  await ctx.db
    .update(paymentAttempts)
    .set({ status: "expired", updatedAt: ctx.now() })
    .where(and(eq(paymentAttempts.providerSessionId, sessionId), eq(paymentAttempts.status, "open")));
}
