// The emulator's Stripe account, in memory: Checkout Sessions, PaymentIntents, Charges, Refunds, balance
// transactions and payouts, and the operations on them. Operations answer the object or a Stripe error; the
// events they cause are recorded with the dispatcher and returned so the caller decides when they go out.
import { stripeId } from "./stripe-ids.js";
import type { BalanceTransaction, Charge, CheckoutSession, PaymentIntent, Payout, Refund } from "./stripe-objects.js";
import type { StoredEvent, WebhookDispatcher } from "./stripe-webhooks.js";

export type { BalanceTransaction, Charge, CheckoutSession, PaymentIntent, Payout, Refund };

export interface StripeErrorBody {
  type: "invalid_request_error" | "idempotency_error" | "api_error";
  message: string;
  code?: string;
  param?: string;
}

export interface StripeFailure {
  status: number;
  error: StripeErrorBody;
}

export type Outcome<T> = { ok: T; events: StoredEvent[] } | { fail: StripeFailure };

export const invalid = (message: string, param?: string, code?: string, status = 400): StripeFailure => ({
  status,
  error: { type: "invalid_request_error", message, ...(code ? { code } : {}), ...(param ? { param } : {}) },
});

export const missing = (kind: string, id: string, param = "id"): StripeFailure => invalid(`No such ${kind}: '${id}'`, param, "resource_missing", 404);

export interface LineItem {
  currency: string;
  unitAmount: number;
  name: string;
  quantity: number;
}

export interface NewSession {
  lineItems: LineItem[];
  successUrl: string | null;
  cancelUrl: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  paymentIntentMetadata: Record<string, string>;
  expiresAt: number | null;
}

export interface PayOptions {
  deliver?: "normal" | "none";
  duplicates?: number;
  order?: "as-made" | "reversed";
  parallel?: boolean;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** The emulated processing fee: 2.9 % (rounded half up) + 30 minor units, never more than the amount. */
export const processingFee = (amount: number): number => Math.min(amount, Math.floor((amount * 29 + 500) / 1000) + 30);

export class StripeAccount {
  readonly sessions = new Map<string, CheckoutSession>();
  /** The line items' names, for the hosted page (Stripe keeps them under the session's line_items). */
  readonly sessionItemNames = new Map<string, string[]>();
  readonly #sessionPiMetadata = new Map<string, Record<string, string>>();
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  /** In creation order. */
  readonly balanceTransactions: BalanceTransaction[] = [];
  readonly payouts: Payout[] = [];

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly checkoutUrl: (sessionId: string) => string,
  ) {}

  createSession(input: NewSession): Outcome<CheckoutSession> {
    const created = now();
    const expiresAt = input.expiresAt ?? created + 24 * 3600;
    // Stripe: expires_at must be 30 minutes to 24 hours after the session is created.
    if (input.expiresAt !== null && (expiresAt < created + 30 * 60 - 5 || expiresAt > created + 24 * 3600 + 5)) {
      return { fail: invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.", "expires_at") };
    }
    const amount = input.lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
    if (!Number.isSafeInteger(amount) || amount > 99_999_999) {
      return { fail: invalid("The Checkout Session's total amount due must be no more than 999,999.99.", "line_items", "amount_too_large") };
    }
    const id = stripeId("cs_test", 58);
    const session: CheckoutSession = {
      id,
      object: "checkout.session",
      amount_subtotal: amount,
      amount_total: amount,
      cancel_url: input.cancelUrl,
      client_reference_id: input.clientReferenceId,
      created,
      currency: (input.lineItems[0] as LineItem).currency,
      customer_details: null,
      customer_email: input.customerEmail,
      expires_at: expiresAt,
      livemode: false,
      metadata: input.metadata,
      mode: "payment",
      payment_intent: null,
      payment_status: "unpaid",
      status: "open",
      success_url: input.successUrl,
      url: this.checkoutUrl(id),
    };
    this.sessions.set(id, session);
    this.sessionItemNames.set(id, input.lineItems.map((item) => (item.quantity > 1 ? `${item.quantity} × ${item.name}` : item.name)));
    // Stripe copies payment_intent_data.metadata to the PaymentIntent; the session's own metadata stays on it.
    this.#sessionPiMetadata.set(id, { ...input.metadata, ...input.paymentIntentMetadata });
    return { ok: session, events: [] };
  }

  expireSession(id: string): Outcome<CheckoutSession> {
    const session = this.sessions.get(id);
    if (!session) return { fail: missing("checkout.session", id, "session") };
    if (session.status !== "open") {
      return { fail: invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`, undefined, "checkout_session_not_open") };
    }
    session.status = "expired";
    session.url = null;
    return { ok: session, events: [this.dispatcher.record("checkout.session.expired", session)] };
  }

  /** Sessions past their expires_at expire as on Stripe (with their event); called before reads and on a timer. */
  expireDue(): StoredEvent[] {
    const events: StoredEvent[] = [];
    const t = now();
    for (const session of this.sessions.values()) {
      if (session.status === "open" && session.expires_at <= t) {
        const outcome = this.expireSession(session.id);
        if ("ok" in outcome) events.push(...outcome.events);
      }
    }
    return events;
  }

  /** What a customer paying on the hosted page does: the session completes, a PaymentIntent and Charge succeed. */
  paySession(id: string): Outcome<CheckoutSession> {
    const session = this.sessions.get(id);
    if (!session) return { fail: missing("checkout.session", id, "session") };
    if (session.status !== "open") return { fail: invalid(`This Checkout Session is ${session.status} and can no longer be paid.`, undefined, "checkout_session_not_open") };
    const created = now();
    const metadata = this.#sessionPiMetadata.get(id) ?? {};
    const pi: PaymentIntent = {
      id: stripeId("pi"),
      object: "payment_intent",
      amount: session.amount_total,
      amount_received: session.amount_total,
      currency: session.currency,
      created,
      latest_charge: null,
      livemode: false,
      metadata,
      payment_method_types: ["card"],
      receipt_email: session.customer_email,
      status: "succeeded",
    };
    const chargeId = stripeId("ch");
    const txn = this.#transaction("charge", session.amount_total, session.currency, chargeId, processingFee(session.amount_total), "Payment");
    const charge: Charge = {
      id: chargeId,
      object: "charge",
      amount: pi.amount,
      amount_captured: pi.amount,
      amount_refunded: 0,
      balance_transaction: txn.id,
      captured: true,
      created,
      currency: pi.currency,
      livemode: false,
      metadata,
      paid: true,
      payment_intent: pi.id,
      refunded: false,
      refunds: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/charges/${chargeId}/refunds` },
      status: "succeeded",
    };
    pi.latest_charge = charge.id;
    this.paymentIntents.set(pi.id, pi);
    this.charges.set(charge.id, charge);
    session.status = "complete";
    session.payment_status = "paid";
    session.payment_intent = pi.id;
    session.url = null;
    session.customer_details = { email: session.customer_email };
    const events = [
      this.dispatcher.record("checkout.session.completed", session),
      this.dispatcher.record("payment_intent.succeeded", pi),
      this.dispatcher.record("charge.succeeded", charge),
    ];
    return { ok: session, events };
  }

  refund(input: { paymentIntent: string | null; charge: string | null; amount: number | null; reason: string | null; metadata: Record<string, string> }, idempotencyKey: string | null): Outcome<Refund> {
    let charge: Charge | undefined;
    if (input.charge) {
      charge = this.charges.get(input.charge);
      if (!charge) return { fail: missing("charge", input.charge, "charge") };
    } else if (input.paymentIntent) {
      const pi = this.paymentIntents.get(input.paymentIntent);
      if (!pi) return { fail: missing("payment_intent", input.paymentIntent, "payment_intent") };
      charge = pi.latest_charge ? this.charges.get(pi.latest_charge) : undefined;
      if (!charge) return { fail: invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, "payment_intent") };
    } else {
      return { fail: invalid("One of the following params should be provided for this request: payment_intent or charge.") };
    }
    const left = charge.amount - charge.amount_refunded;
    if (left === 0) return { fail: invalid(`Charge ${charge.id} has already been refunded.`, undefined, "charge_already_refunded") };
    const amount = input.amount ?? left;
    if (amount > left) {
      return { fail: invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, "amount", "amount_too_large") };
    }
    const id = stripeId("re");
    const txn = this.#transaction("refund", -amount, charge.currency, id, 0, "REFUND FOR PAYMENT");
    const refund: Refund = {
      id,
      object: "refund",
      amount,
      balance_transaction: txn.id,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      metadata: input.metadata,
      payment_intent: charge.payment_intent,
      reason: input.reason,
      status: "succeeded",
    };
    this.refunds.set(id, refund);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    charge.refunds.data.unshift(refund);
    charge.refunds.total_count++;
    const events = [this.dispatcher.record("charge.refunded", charge, idempotencyKey), this.dispatcher.record("refund.created", refund, idempotencyKey)];
    return { ok: refund, events };
  }

  /**
   * Pays out every available balance transaction not yet paid out: in `currency` only when given, else one payout
   * per currency (as Stripe pays each currency's balance separately), in the order of each currency's oldest
   * transaction. Answers the first payout; the others are in the payouts list and each has its payout.paid event.
   */
  payout(currency: string | undefined): Outcome<Payout> {
    const unpaid = this.balanceTransactions.filter((t) => t.payout === null && t.type !== "payout");
    const currencies = currency ? [currency] : [...new Set(unpaid.map((t) => t.currency))];
    const made: Payout[] = [];
    const events: StoredEvent[] = [];
    for (const chosen of currencies) {
      const taken = unpaid.filter((t) => t.currency === chosen);
      const amount = taken.reduce((sum, t) => sum + t.net, 0);
      if (amount <= 0) continue;
      const id = stripeId("po");
      const txn = this.#transaction("payout", -amount, chosen, id, 0, "STRIPE PAYOUT");
      const created = now();
      const payout: Payout = {
        id,
        object: "payout",
        amount,
        arrival_date: created,
        automatic: false,
        balance_transaction: txn.id,
        created,
        currency: chosen,
        livemode: false,
        metadata: {},
        method: "standard",
        status: "paid",
        type: "bank_account",
      };
      for (const t of [...taken, txn]) t.payout = id;
      this.payouts.push(payout);
      made.push(payout);
      events.push(this.dispatcher.record("payout.paid", payout));
    }
    const first = made[0];
    if (!first) return { fail: invalid("You have insufficient funds in your Stripe account for this transfer.", undefined, "balance_insufficient") };
    return { ok: first, events };
  }

  #transaction(type: BalanceTransaction["type"], amount: number, currency: string, source: string, fee: number, description: string): BalanceTransaction {
    const created = now();
    const txn: BalanceTransaction = {
      id: stripeId("txn"),
      object: "balance_transaction",
      amount,
      available_on: created,
      created,
      currency,
      description,
      fee,
      net: amount - fee,
      payout: null,
      reporting_category: type === "charge" ? "charge" : type === "refund" ? "refund" : "payout",
      source,
      status: "available",
      type,
    };
    this.balanceTransactions.push(txn);
    return txn;
  }
}
