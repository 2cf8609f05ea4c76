import { createRequire } from "node:module";
import type Stripe from "stripe";
import {
  type PaymentProvider,
  type ProviderBalanceTransaction,
  type ProviderEvent,
  type ProviderPayment,
  ProviderListTooLarge,
  type ProviderRefund,
  ProviderRefused,
  ProviderUnavailable,
} from "../../domain/finance/payment-provider.js";
import type { Settings } from "./settings.js";

// The SDK (about 220 modules) is required on first use, not imported with the app: most instances and requests never
// reach Stripe. Required rather than imported so that the client stays synchronous for its callers.
const require = createRequire(import.meta.url);
let sdk: typeof Stripe | undefined;
const loadStripe = (): typeof Stripe => (sdk ??= require("stripe") as typeof Stripe);

/** Most rows one reconciliation reads from the provider (more in the period: ProviderListTooLarge, never a silent cut). */
const LIST_CAP = 10_000;

let cached: { key: string; url: string; stripe: Stripe; provider: PaymentProvider } | undefined;

/** The instance's Stripe client, built once (per key and URL). */
export function stripeClient(s: Settings): Stripe {
  const key = s.STRIPE_SECRET_KEY ?? "";
  const url = s.STRIPE_API_URL ?? "";
  if (!cached || cached.key !== key || cached.url !== url) {
    const stripe = createStripeClient(s);
    cached = { key, url, stripe, provider: stripeProvider(stripe) };
  }
  return cached.stripe;
}

/** The payment-provider port of this instance (Stripe). */
export function paymentProvider(s: Settings): PaymentProvider {
  stripeClient(s);
  return cached!.provider;
}

/** The official SDK, pointed at STRIPE_API_URL when set (the runtime's emulator locally), else api.stripe.com. */
export function createStripeClient(s: Settings): Stripe {
  const url = s.STRIPE_API_URL ? new URL(s.STRIPE_API_URL) : undefined;
  const StripeSdk = loadStripe();
  return new StripeSdk(s.STRIPE_SECRET_KEY ?? "", {
    ...(url ? { host: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)), protocol: url.protocol === "https:" ? "https" : "http" } : {}),
    // The SDK retries network failures and 409/5xx with the same idempotency key: never a second charge or refund.
    maxNetworkRetries: 2,
    timeout: 10_000,
    appInfo: { name: "Ringlet" },
  });
}

/** The payment-provider port over Stripe: Checkout Sessions, PaymentIntents, refunds, payouts, balance transactions. */
export function stripeProvider(stripe: Stripe): PaymentProvider {
  return {
    name: "stripe",
    createCheckout: (r) =>
      call(async () => {
        const metadata = { invoiceId: r.invoiceId, attemptId: r.attemptId, userId: r.userId };
        const session = await stripe.checkout.sessions.create(
          {
            mode: "payment",
            line_items: [{ quantity: 1, price_data: { currency: r.currency.toLowerCase(), unit_amount: r.amountMinor, product_data: { name: r.description } } }],
            success_url: r.successUrl,
            cancel_url: r.cancelUrl,
            customer_email: r.customerEmail,
            client_reference_id: r.invoiceId,
            metadata,
            payment_intent_data: { metadata },
            expires_at: Math.floor(r.expiresAt.getTime() / 1000),
          },
          { idempotencyKey: r.idempotencyKey },
        );
        if (!session.url) throw new ProviderUnavailable("the checkout session has no url");
        return { sessionId: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
      }),
    expireCheckout: (sessionId) =>
      call(async () => {
        await stripe.checkout.sessions.expire(sessionId);
      }),
    retrievePayment: (id) =>
      call(async () => {
        try {
          return paymentOf(await stripe.paymentIntents.retrieve(id));
        } catch (err) {
          if (err instanceof loadStripe().errors.StripeInvalidRequestError && err.statusCode === 404) return null;
          throw err;
        }
      }),
    listRefunds: (paymentId) =>
      call(async () => {
        const out: ProviderRefund[] = [];
        for await (const r of stripe.refunds.list({ payment_intent: paymentId, limit: 100 })) {
          out.push(refundOf(r));
          if (out.length >= LIST_CAP) break;
        }
        return out;
      }),
    refund: (r) =>
      call(async () => refundOf(await stripe.refunds.create({ payment_intent: r.paymentId, amount: r.amountMinor, metadata: r.metadata }, { idempotencyKey: r.idempotencyKey }))),
    listPayouts: (period) =>
      call(async () => {
        const out = [];
        for await (const p of stripe.payouts.list({ created: range(period), limit: 100 })) {
          if (out.length >= LIST_CAP) throw new ProviderListTooLarge(`more than ${LIST_CAP} payouts in the period`);
          out.push({ id: p.id, amountMinor: p.amount, currency: p.currency.toUpperCase(), status: p.status, arrivalDate: new Date(p.arrival_date * 1000), createdAt: new Date(p.created * 1000) });
        }
        return out;
      }),
    listBalanceTransactions: (period) =>
      call(async () => {
        const rows: Stripe.BalanceTransaction[] = [];
        // The charge comes expanded with its movement (one list, no read per charge): it names the payment.
        for await (const t of stripe.balanceTransactions.list({ created: range(period), limit: 100, expand: ["data.source"] })) {
          if (rows.length >= LIST_CAP) throw new ProviderListTooLarge(`more than ${LIST_CAP} balance transactions in the period`);
          rows.push(t);
        }
        const paymentOfCharge = new Map<string, string | null>();
        for (const t of rows) {
          const source = t.source as unknown;
          if (source && typeof source === "object" && "payment_intent" in source) paymentOfCharge.set(idOf(source)!, idOf(source.payment_intent));
        }
        return rows.map((t): ProviderBalanceTransaction => {
          const source = idOf(t.source);
          const isRefund = t.type === "refund" || t.type === "payment_refund";
          return {
            id: t.id,
            type: t.type,
            amountMinor: t.amount,
            feeMinor: t.fee,
            currency: t.currency.toUpperCase(),
            paymentId: !isRefund && source ? (paymentOfCharge.get(source) ?? null) : null,
            refundId: isRefund ? source : null,
            payoutId: idOf((t as { payout?: unknown }).payout),
            createdAt: new Date(t.created * 1000),
          };
        });
      }),
  };
}

/** Verifies a webhook's signature (and its age) with the SDK and reduces the event to what the domain acts on. */
export async function verifyStripeEvent(stripe: Stripe, raw: Buffer, signature: string, secret: string, toleranceSeconds: number): Promise<ProviderEvent | null> {
  let event: Stripe.Event;
  try {
    event = await stripe.webhooks.constructEventAsync(raw, signature, secret, toleranceSeconds);
  } catch (err) {
    const E = loadStripe().errors;
    if (err instanceof E.StripeSignatureVerificationError || err instanceof E.StripeError || err instanceof SyntaxError) return null;
    throw err;
  }
  const object = event.data.object as unknown as { id: string; object: string; payment_intent?: unknown };
  const base = { id: event.id, type: event.type, occurredAt: new Date(event.created * 1000), objectId: String(object.id) };
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
    case "charge.succeeded":
      return { ...base, subject: { kind: "payment", paymentId: idOf(object.payment_intent) } };
    case "payment_intent.succeeded":
      return { ...base, subject: { kind: "payment", paymentId: object.id } };
    case "charge.refunded":
    case "refund.created":
    case "refund.updated":
      return { ...base, subject: { kind: "refund", paymentId: idOf(object.payment_intent) } };
    case "checkout.session.expired":
      return { ...base, subject: { kind: "checkout-expired", sessionId: object.id } };
    default:
      return { ...base, subject: { kind: "other" } };
  }
}

function paymentOf(pi: Stripe.PaymentIntent): ProviderPayment {
  return { id: pi.id, status: pi.status, amountMinor: pi.amount_received ?? pi.amount, currency: pi.currency.toUpperCase(), metadata: { ...pi.metadata }, createdAt: new Date(pi.created * 1000) };
}

function refundOf(r: Stripe.Refund): ProviderRefund {
  return { id: r.id, paymentId: idOf(r.payment_intent), status: r.status ?? "pending", amountMinor: r.amount, currency: r.currency.toUpperCase(), metadata: { ...(r.metadata ?? {}) } };
}

/** [from, to) in Stripe's whole seconds: the seconds s with from <= s < to, as the ledger side counts them. */
const range = (period: { from: Date; to: Date }) => ({ gte: Math.ceil(period.from.getTime() / 1000), lte: Math.ceil(period.to.getTime() / 1000) - 1 });

/** An expandable field's id: a string, an object with an id, or null. */
function idOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "id" in value && typeof value.id === "string") return value.id;
  return null;
}

/**
 * Stripe's failures as the port's: unreachable, rate-limited or failing on its side (after the SDK's own retries)
 * is ProviderUnavailable (a 503 with Retry-After); a request Stripe refuses is ProviderRefused. A bad key is a
 * fault of this installation, thrown as it is (a 500, logged).
 */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const E = loadStripe().errors;
    if (err instanceof E.StripeConnectionError || err instanceof E.StripeAPIError || err instanceof E.StripeRateLimitError) {
      throw new ProviderUnavailable(`Stripe: ${err.message}`, err instanceof E.StripeRateLimitError ? 2 : 5);
    }
    if (err instanceof E.StripeInvalidRequestError || err instanceof E.StripeCardError || err instanceof E.StripeIdempotencyError) {
      throw new ProviderRefused(err.message, err.code ?? null);
    }
    throw err;
  }
}
