import { and, desc, eq, gt, inArray, max, sql } from "drizzle-orm";
import { enrollments, type Invoice, paymentAttempts } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { invoiceStandings, lockInvoice } from "./ledger.js";
import { type PaymentProvider, ProviderRefused } from "./payment-provider.js";

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

export type CheckoutError = "INVOICE_NOT_FOUND" | "INVOICE_NOT_PAYABLE" | "CHECKOUT_IN_PROGRESS";

/** How long a checkout being made (no URL yet) keeps others waiting; after that it was lost and is made again. */
const IN_PROGRESS_MS = 30_000;

type Attempt = typeof paymentAttempts.$inferSelect;
type Prepared =
  | { reuse: Checkout }
  | { expire: Attempt[] }
  | { create: { attemptId: string; attempt: number; amountMinor: number; expiresAt: Date; invoice: Invoice } };

/**
 * A checkout page at the provider for the learner's invoice. Under the invoice's lock: an open attempt for the same
 * amount is handed out again (two clicks make one checkout); one still being made (no URL yet) answers
 * CHECKOUT_IN_PROGRESS, and is closed here once older than IN_PROGRESS_MS (its request was lost; its URL was never
 * handed out). Any other open session (another amount, or too close to its end) is expired at the provider first, so
 * one invoice never has two payable sessions. Then attempt n+1 is recorded and committed, and the provider is asked
 * with the idempotency key `invoice:<id>:attempt:<n>`, outside any transaction. A held seat
 * (`pending-payment`) is kept at least until the session ends: it cannot be released while it can be paid.
 */
export async function startCheckout(ctx: DomainContext, provider: PaymentProvider, input: CheckoutInput): Promise<Result<Checkout, CheckoutError>> {
  for (let round = 0; ; round++) {
    const prepared = await prepareCheckout(ctx, provider, input);
    if (!prepared.ok) return prepared;
    const step = prepared.value;
    if ("reuse" in step) return ok(step.reuse);
    if ("expire" in step) {
      if (round > 0) return fail("CHECKOUT_IN_PROGRESS", "An earlier checkout of this invoice is still open.", { retryAfterSeconds: 5 });
      for (const open of step.expire) {
        try {
          await provider.expireCheckout(open.providerSessionId!);
        } catch (err) {
          // Not open any more: paid (its webhook is coming) or closed; either way no new session until it is known.
          if (err instanceof ProviderRefused) return fail("CHECKOUT_IN_PROGRESS", "An earlier checkout of this invoice may have been paid; try again shortly.", { retryAfterSeconds: 10 });
          throw err;
        }
        await expireCheckout(ctx, open.providerSessionId!);
      }
      continue;
    }
    const { attemptId, attempt, amountMinor, expiresAt, invoice } = step.create;
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
}

async function prepareCheckout(ctx: DomainContext, provider: PaymentProvider, input: CheckoutInput): Promise<Result<Prepared, CheckoutError>> {
  const now = ctx.now();
  return ctx.db.transaction(async (db): Promise<Result<Prepared, CheckoutError>> => {
    const tx = { ...ctx, db };
    const invoice = await lockInvoice(db, input.invoiceId);
    if (!invoice || invoice.userId !== input.userId) return fail("INVOICE_NOT_FOUND");
    if (invoice.status !== "open") return fail("INVOICE_NOT_PAYABLE", `The invoice is ${invoice.status}.`);
    const standing = (await invoiceStandings(db, [invoice.id])).get(invoice.id)!;
    const next = standing.instalments.find((i) => i.outstandingMinor > 0);
    const amountMinor = input.scope === "all" || !next ? standing.outstandingMinor : next.outstandingMinor;
    if (amountMinor <= 0) return fail("INVOICE_NOT_PAYABLE", "Nothing is owed on the invoice.");
    const open = await db
      .select()
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.invoiceId, invoice.id), eq(paymentAttempts.status, "open"), gt(paymentAttempts.expiresAt, now)))
      .orderBy(desc(paymentAttempts.attempt));
    const reusable = open.find((a) => a.amountMinor === amountMinor && a.url && a.expiresAt && a.expiresAt.getTime() > now.getTime() + REUSE_MARGIN_MS);
    if (reusable?.url && reusable.expiresAt) return ok({ reuse: { url: reusable.url, expiresAt: reusable.expiresAt, amountMinor, currency: invoice.currency } });
    const beingMade = open.filter((a) => !a.url);
    if (beingMade.some((a) => a.updatedAt.getTime() > now.getTime() - IN_PROGRESS_MS)) {
      return fail("CHECKOUT_IN_PROGRESS", "A checkout of this invoice is being made; try again in a moment.", { retryAfterSeconds: 2 });
    }
    const toExpire = open.filter((a) => a.url && a.providerSessionId);
    if (toExpire.length > 0) return ok({ expire: toExpire });
    // Lost ones (their provider call never answered): their URL was never handed out, so nobody can pay them.
    const lost = beingMade.map((a) => a.id);
    if (lost.length > 0) await db.update(paymentAttempts).set({ status: "expired", updatedAt: now }).where(inArray(paymentAttempts.id, lost));
    const expiresAt = new Date(now.getTime() + CHECKOUT_TTL_MS);
    await holdSeatUntil(tx, invoice, expiresAt);
    const [last] = await db.select({ n: max(paymentAttempts.attempt) }).from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoice.id));
    const attempt = (last?.n ?? 0) + 1;
    const attemptId = ctx.newId();
    await db.insert(paymentAttempts).values({ id: attemptId, invoiceId: invoice.id, attempt, provider: provider.name, amountMinor, currency: invoice.currency, status: "open", expiresAt, createdAt: now, updatedAt: now });
    return ok({ create: { attemptId, attempt, amountMinor, expiresAt, invoice } });
  });
}

/** A held seat (`pending-payment`) is not released while a checkout of its invoice can still be paid. */
async function holdSeatUntil(ctx: DomainContext, invoice: Invoice, until: Date): Promise<void> {
  await ctx.db
    .update(enrollments)
    .set({ paymentDueAt: sql`greatest(${enrollments.paymentDueAt}, ${until.toISOString()}::timestamptz)`, updatedAt: ctx.now() })
    .where(and(eq(enrollments.id, invoice.enrollmentId), eq(enrollments.status, "pending-payment")));
}

/** The provider closed a checkout unpaid: its attempt is expired (a completed one stays completed). */
export async function expireCheckout(ctx: DomainContext, sessionId: string): Promise<void> {
  await ctx.db
    .update(paymentAttempts)
    .set({ status: "expired", updatedAt: ctx.now() })
    .where(and(eq(paymentAttempts.providerSessionId, sessionId), eq(paymentAttempts.status, "open")));
}
