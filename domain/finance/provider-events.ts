import { eq } from "drizzle-orm";
import { payments, providerEvents } from "../db/schema/index.js";
import type { DomainError } from "../shared/result.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { expireCheckout } from "./checkout.js";
import type { PaymentProvider, ProviderEvent, ProviderPayment, ProviderRefund } from "./payment-provider.js";
import { type ProviderPaymentError, recordProviderPayment } from "./payments.js";
import { type ProviderRefundError, recordProviderRefund } from "./refunds.js";

export type ProviderEventError = ProviderPaymentError | ProviderRefundError;

export interface EventOutcome {
  /** The event was recorded before: nothing was done again. */
  duplicate: boolean;
  /** What it changed: `payment`, `refund`, `checkout-expired`, or `ignored` (a type Ringlet does not act on). */
  applied: "payment" | "refund" | "checkout-expired" | "ignored";
}

/** Aborts the event's transaction with a domain error: the event is not recorded, so a redelivery is tried afresh. */
class Refusal extends Error {
  constructor(readonly error: DomainError<ProviderEventError>) {
    super(error.code);
  }
}

/**
 * A verified webhook event, recorded once by its id and applied. It is applied from the provider's state as it is
 * now (the payment and its refunds are read back), not from the event's copy, so events arriving twice or out of
 * order come to the same result: a refund reported before its payment records the payment first. What the
 * provider says is checked as input; a refusal (unknown invoice, wrong currency, bad amount) records nothing.
 */
export async function handleProviderEvent(ctx: DomainContext, provider: PaymentProvider, event: ProviderEvent): Promise<Result<EventOutcome, ProviderEventError>> {
  const [seen] = await ctx.db.select({ id: providerEvents.id }).from(providerEvents).where(eq(providerEvents.id, event.id));
  if (seen) return ok({ duplicate: true, applied: subjectOf(event) });
  // Read before the transaction: no row lock is held while the provider answers.
  const subject = event.subject;
  let payment: ProviderPayment | null = null;
  let refunds: ProviderRefund[] = [];
  // A payment event about a payment recorded already changes nothing (refunds come in their own events): the
  // provider is not asked again. A payment's three events (session, intent, charge) cost one read, not three.
  const known = subject.kind === "payment" && subject.paymentId !== null && (await isRecorded(ctx, subject.paymentId));
  if ((subject.kind === "payment" || subject.kind === "refund") && subject.paymentId && !known) {
    payment = await provider.retrievePayment(subject.paymentId);
    if (subject.kind === "refund") refunds = await provider.listRefunds(subject.paymentId);
  }
  try {
    return await ctx.db.transaction(async (db) => {
      const tx = { ...ctx, db };
      const [recorded] = await db
        .insert(providerEvents)
        .values({ id: event.id, provider: provider.name, type: event.type, objectId: event.objectId, occurredAt: event.occurredAt, receivedAt: ctx.now() })
        .onConflictDoNothing({ target: providerEvents.id })
        .returning({ id: providerEvents.id });
      if (!recorded) return ok({ duplicate: true, applied: subjectOf(event) });
      if (subject.kind === "checkout-expired") await expireCheckout(tx, subject.sessionId);
      if (payment) {
        const paid = await recordProviderPayment(tx, provider.name, payment);
        if (!paid.ok) throw new Refusal(paid.error);
        for (const refund of paid.value ? refunds : []) {
          const done = await recordProviderRefund(tx, paid.value!, refund);
          if (!done.ok) throw new Refusal(done.error);
        }
      }
      await db.update(providerEvents).set({ processedAt: ctx.now() }).where(eq(providerEvents.id, event.id));
      return ok({ duplicate: false, applied: subjectOf(event) });
    });
  } catch (err) {
    if (err instanceof Refusal) return fail(err.error.code, err.error.detail, err.error.extensions);
    throw err;
  }
}

async function isRecorded(ctx: DomainContext, providerPaymentId: string): Promise<boolean> {
  const [row] = await ctx.db.select({ id: payments.id }).from(payments).where(eq(payments.providerPaymentId, providerPaymentId));
  return row !== undefined;
}

function subjectOf(event: ProviderEvent): EventOutcome["applied"] {
  return event.subject.kind === "other" ? "ignored" : event.subject.kind;
}
