import { z } from "zod";
import { startCheckout } from "../../domain/finance/checkout.js";
import { amountMinorSchema, currencySchema } from "../../domain/finance/money.js";
import { ProviderListTooLarge, ProviderRefused, ProviderUnavailable } from "../../domain/finance/payment-provider.js";
import { type Payment, recordManualPayment } from "../../domain/finance/payments.js";
import { handleProviderEvent } from "../../domain/finance/provider-events.js";
import { reconcile } from "../../domain/finance/reconciliation.js";
import { type Refund, refundPayment } from "../../domain/finance/refunds.js";
import { authenticated, financeStaff, publicAccess } from "../platform/http/access.js";
import { readBody } from "../platform/http/body.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route, type RouteContext } from "../platform/http/route.js";
import { paymentsConfigured, paymentWebhookConfigured } from "../platform/settings.js";
import { paymentProvider, stripeClient, verifyStripeEvent } from "../platform/stripe-provider.js";
import { line } from "./schemas/text.js";

const iso = z.iso.datetime();

const invoiceParams = z.object({ invoiceId: z.uuid() });
const paymentParams = z.object({ paymentId: z.uuid() });

/** Online payments need the Stripe key (and the webhook its signing secret): 503 until Key Vault has them. */
function provider(ctx: RouteContext) {
  if (!paymentsConfigured(ctx.platform.settings)) throw new ProblemError("PAYMENTS_NOT_CONFIGURED", { headers: { "retry-after": "3600" } });
  return paymentProvider(ctx.platform.settings);
}

/** A provider outage is a moment to wait out: 503 with Retry-After, never a 500; a refusal is the request's (422). */
async function atProvider<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProviderRefused) throw new ProblemError("PAYMENT_PROVIDER_REFUSED", { detail: err.message });
    if (err instanceof ProviderUnavailable) {
      throw new ProblemError("PAYMENT_PROVIDER_UNAVAILABLE", { detail: "The payment provider did not answer; try again shortly.", headers: { "retry-after": String(err.retryAfterSeconds) } });
    }
    throw err;
  }
}

const checkoutSchema = z
  .object({
    url: z.url().meta({ description: "The provider's checkout page: send the learner there" }),
    expiresAt: iso,
    amountMinor: z.number().int(),
    currency: z.string().length(3),
  })
  .meta({ id: "Checkout" });

route({
  name: "invoices-checkout",
  method: "POST",
  path: "/v1/invoices/{invoiceId}/checkout",
  // The learner's own invoice; anyone else's answers 404 like the invoice routes (its existence is not told).
  access: authenticated,
  summary: "Pay an invoice online: a checkout page at the payment provider",
  description:
    "Pays what is due now (the next unpaid instalment) or, with `scope: all`, everything still owed. An open checkout for the same amount is handed out again; one still being made answers 409 `CHECKOUT_IN_PROGRESS` with Retry-After; an open one for another amount is expired at the provider first (an invoice never has two payable checkouts). " +
    "A held seat (`pending-payment`) is kept at least until the checkout ends (its `paymentDueAt` moves to the checkout's `expiresAt` if that is later), so it is never released while the checkout can still be paid. The payment is recorded when the provider's webhook reports it.",
  tags: ["payments"],
  params: invoiceParams,
  body: z.object({ scope: z.enum(["next-instalment", "all"]).default("next-instalment") }).optional(),
  responses: {
    200: { description: "The checkout page", body: checkoutSchema },
    404: { description: "`INVOICE_NOT_FOUND`" },
    409: { description: "`INVOICE_NOT_PAYABLE`: paid, void, or nothing owed; `CHECKOUT_IN_PROGRESS` (with Retry-After): a checkout is being made, or an earlier one may have been paid" },
    422: { description: "`PAYMENT_PROVIDER_REFUSED`" },
    503: { description: "`PAYMENTS_NOT_CONFIGURED`, `PAYMENT_PROVIDER_UNAVAILABLE` (with Retry-After)" },
  },
  handler: async ({ params, body }, ctx) => {
    const at = provider(ctx);
    const app = ctx.platform.settings.PUBLIC_APP_URL.replace(/\/$/, "");
    const checkout = unwrap(
      await atProvider(() =>
        startCheckout(ctx.domain(), at, {
          invoiceId: params.invoiceId,
          userId: ctx.caller.userId,
          scope: body?.scope ?? "next-instalment",
          successUrl: `${app}/invoices/${params.invoiceId}?payment=success`,
          cancelUrl: `${app}/invoices/${params.invoiceId}?payment=cancelled`,
        }),
      ),
    );
    return { status: 200, body: { url: checkout.url, expiresAt: checkout.expiresAt.toISOString(), amountMinor: checkout.amountMinor, currency: checkout.currency } };
  },
});

route({
  name: "payments-stripe-webhook",
  method: "POST",
  path: "/v1/payments/stripe/webhook",
  access: publicAccess,
  personal: false,
  summary: "Stripe's webhook (signed events about checkouts, payments and refunds)",
  description:
    "The raw body is verified against `Stripe-Signature` with the webhook signing secret; a signature older than STRIPE_WEBHOOK_TOLERANCE_S is a replay. Each event is recorded once by its id (a redelivery answers 200 and changes nothing) and applied from the payment's state read back from Stripe, so order does not matter. " +
    "A 422 (an invoice this installation does not have, a currency that is not the invoice's, an amount that is not a positive whole number) records nothing; Stripe retries it for up to three days, which is right for a race (the invoice's transaction not yet visible) and harmless otherwise: each retry is refused the same way, and the payment shows in the reconciliation as missing in the ledger until someone acts.",
  tags: ["payments"],
  responses: {
    200: { description: "Recorded (or recorded before)", body: z.object({ received: z.literal(true), duplicate: z.boolean(), applied: z.enum(["payment", "refund", "checkout-expired", "ignored"]) }) },
    400: { description: "`WEBHOOK_SIGNATURE_INVALID`: missing, wrong or too old" },
    413: { description: "`PAYLOAD_TOO_LARGE`" },
    422: { description: "`WEBHOOK_EVENT_UNKNOWN_INVOICE`, `CURRENCY_MISMATCH`, `PAYMENT_AMOUNT_INVALID`, `REFUND_EXCEEDS_PAYMENT`, `PAYMENT_PROVIDER_REFUSED`" },
    503: { description: "`PAYMENTS_NOT_CONFIGURED`, `PAYMENT_PROVIDER_UNAVAILABLE`" },
  },
  handler: async ({ request }, ctx) => {
    const s = ctx.platform.settings;
    if (!paymentWebhookConfigured(s)) throw new ProblemError("PAYMENTS_NOT_CONFIGURED");
    const raw = await readBody(request, s.HTTP_MAX_BODY_BYTES);
    const signature = request.headers.get("stripe-signature");
    const event = signature ? await verifyStripeEvent(stripeClient(s), raw, signature, s.STRIPE_WEBHOOK_SECRET!, s.STRIPE_WEBHOOK_TOLERANCE_S) : null;
    if (!event) throw new ProblemError("WEBHOOK_SIGNATURE_INVALID");
    const outcome = unwrap(await atProvider(() => handleProviderEvent(ctx.domain(), paymentProvider(s), event)));
    return { status: 200, body: { received: true, ...outcome } };
  },
});

const paymentSchema = z
  .object({
    id: z.uuid(),
    invoiceId: z.uuid(),
    userId: z.uuid(),
    method: z.enum(["stripe", "bank-transfer", "cash"]),
    amountMinor: z.number().int(),
    currency: z.string().length(3),
    providerPaymentId: z.string().nullable(),
    reference: z.string().nullable(),
    receivedAt: iso,
  })
  .meta({ id: "Payment" });
const paymentBody = (p: Payment) => ({
  id: p.id,
  invoiceId: p.invoiceId,
  userId: p.userId,
  method: p.method,
  amountMinor: p.amountMinor,
  currency: p.currency,
  providerPaymentId: p.providerPaymentId,
  reference: p.reference,
  receivedAt: p.receivedAt.toISOString(),
});

route({
  name: "invoices-payments-record",
  method: "POST",
  path: "/v1/invoices/{invoiceId}/payments",
  access: financeStaff,
  summary: "Record a bank transfer or cash received for an invoice (audited)",
  description:
    "More than is owed stays as credit and pays the learner's other open invoices in the currency. `reference` is required: the bank transfer's reference, or the cash receipt's number; one invoice takes each (method, reference) once (a second recording is 409 `PAYMENT_DUPLICATE`, with the recorded payment's id). Send an Idempotency-Key: a retry then replays the first answer.",
  tags: ["payments"],
  idempotent: true,
  params: invoiceParams,
  body: z.object({
    method: z.enum(["bank-transfer", "cash"]),
    amountMinor: amountMinorSchema,
    currency: currencySchema,
    reference: line(200).meta({ description: "The bank transfer's reference, or the cash receipt's number" }),
    receivedAt: iso.optional(),
  }),
  responses: {
    201: { description: "Recorded", body: paymentSchema },
    404: { description: "`INVOICE_NOT_FOUND`" },
    409: { description: "`INVOICE_NOT_PAYABLE`: void; `PAYMENT_DUPLICATE`: this reference is already recorded for the invoice" },
    422: { description: "`CURRENCY_MISMATCH`, `PAYMENT_AMOUNT_INVALID`" },
  },
  handler: async ({ params, body }, ctx) => {
    const payment = unwrap(
      await ctx.transaction((tx) =>
        recordManualPayment(ctx.domain(tx), { invoiceId: params.invoiceId, method: body.method, amountMinor: body.amountMinor, currency: body.currency, reference: body.reference, receivedAt: body.receivedAt ? new Date(body.receivedAt) : undefined }),
      ),
    );
    return { status: 201, body: paymentBody(payment) };
  },
});

const refundSchema = z
  .object({
    id: z.uuid(),
    paymentId: z.uuid(),
    invoiceId: z.uuid(),
    method: z.enum(["provider", "manual"]),
    amountMinor: z.number().int(),
    currency: z.string().length(3),
    status: z.enum(["pending", "succeeded", "failed"]),
    providerRefundId: z.string().nullable(),
    reference: z.string().nullable(),
    reason: z.string(),
  })
  .meta({ id: "Refund" });
const refundBody = (r: Refund) => ({
  id: r.id,
  paymentId: r.paymentId,
  invoiceId: r.invoiceId,
  method: r.method,
  amountMinor: r.amountMinor,
  currency: r.currency,
  status: r.status,
  providerRefundId: r.providerRefundId,
  reference: r.reference,
  reason: r.reason,
});

route({
  name: "payments-refunds-create",
  method: "POST",
  path: "/v1/payments/{paymentId}/refunds",
  access: financeStaff,
  summary: "Refund (part of) a payment, through the provider or by hand (audited)",
  description:
    "At most what is left of the payment, pending refunds included (else 422 `REFUND_EXCEEDS_PAYMENT`, and nothing is asked of the provider). With `cancelCharge` (default: when the invoice is paid) the part that takes back what the invoice asks gets a credit note; the part that gives back credit (an overpayment) never does; without it, the refunded money is owed again. " +
    "Through the provider, the refund is recorded `pending` before Stripe is asked (with a key made from that row, so Stripe never refunds it twice). If Stripe does not answer (503), the refund stays pending and counts against the payment: send the same request with the same Idempotency-Key again to finish it (it asks Stripe again with the same key), or let Stripe's `refund.created` webhook complete it. Send an Idempotency-Key.",
  tags: ["payments"],
  idempotent: true,
  params: paymentParams,
  body: z.object({
    amountMinor: amountMinorSchema,
    reason: line(500),
    method: z.enum(["provider", "manual"]).optional().meta({ description: "Default: `provider` for card payments, `manual` for the others" }),
    reference: line(200).optional(),
    cancelCharge: z
      .boolean()
      .optional()
      .meta({ description: "Also take back what the invoice asks for the refunded part (a credit note, at most what the refund re-opens). Default: true if the invoice is paid, false otherwise (the refunded money is then owed again)" }),
  }),
  responses: {
    201: { description: "Refunded (status `pending` while the provider works on it)", body: refundSchema },
    404: { description: "`PAYMENT_NOT_FOUND`" },
    422: { description: "`REFUND_EXCEEDS_PAYMENT`, `PAYMENT_AMOUNT_INVALID`, `PAYMENT_PROVIDER_REFUSED`, `IDEMPOTENCY_KEY_REUSED` (the key made a refund of another amount)" },
    503: { description: "`PAYMENTS_NOT_CONFIGURED`, `PAYMENT_PROVIDER_UNAVAILABLE` (with Retry-After; the refund stays pending: retry with the same Idempotency-Key)" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const at = paymentsConfigured(ctx.platform.settings) ? paymentProvider(ctx.platform.settings) : null;
    const key = request.headers.get("idempotency-key");
    // The pool, not the request's transaction: the pending refund must be committed before Stripe is asked, and
    // must survive a 503 (which rolls the request's transaction back).
    const refund = unwrap(
      await atProvider(() =>
        refundPayment(ctx.domain(ctx.platform.database.db), at, {
          paymentId: params.paymentId,
          amountMinor: body.amountMinor,
          reason: body.reason,
          method: body.method,
          reference: body.reference,
          requestKey: key ? `${ctx.caller.userId}:${key}` : undefined,
          cancelCharge: body.cancelCharge,
        }),
      ),
    );
    return { status: 201, body: refundBody(refund) };
  },
});

const lineSchema = z
  .object({
    providerTransactionId: z.string().nullable(),
    providerObjectId: z.string().nullable(),
    kind: z.enum(["payment", "refund"]),
    providerAmountMinor: z.number().int().nullable(),
    providerCurrency: z.string().nullable(),
    ledgerId: z.uuid().nullable(),
    ledgerAmountMinor: z.number().int().nullable(),
    ledgerCurrency: z.string().nullable(),
    payoutId: z.string().nullable(),
  })
  .meta({ id: "ReconciliationLine" });

route({
  name: "finance-reconciliation",
  method: "GET",
  path: "/v1/finance/reconciliation",
  access: financeStaff,
  summary: "The provider's payouts and balance movements of a period against the ledger",
  description: "Matched by the provider's payment and refund ids: what is missing in the ledger (a lost webhook), missing at the provider, or differs; per payout its amount, fees and what the ledger holds for it. At most 31 days at a time.",
  tags: ["payments"],
  query: z
    .object({ from: iso, to: iso })
    .refine((q) => Date.parse(q.to) > Date.parse(q.from) && Date.parse(q.to) - Date.parse(q.from) <= 31 * 86_400_000, { message: "to must follow from, at most 31 days later", path: ["to"] }),
  responses: {
    200: {
      description: "The comparison",
      body: z.object({
        from: iso,
        to: iso,
        matched: z.array(lineSchema),
        missingInLedger: z.array(lineSchema),
        missingAtProvider: z.array(lineSchema),
        mismatched: z.array(lineSchema),
        payouts: z.array(z.object({ id: z.string(), status: z.string(), amountMinor: z.number().int(), currency: z.string(), arrivalDate: iso, ledgerMinor: z.number().int(), feesMinor: z.number().int() })),
      }),
    },
    422: { description: "`PAYMENT_PROVIDER_REFUSED`, `RECONCILIATION_PERIOD_TOO_LARGE` (more provider movements than one reconciliation reads: ask for a shorter period)" },
    503: { description: "`PAYMENTS_NOT_CONFIGURED`, `PAYMENT_PROVIDER_UNAVAILABLE` (with Retry-After)" },
  },
  handler: async ({ query }, ctx) => {
    const at = provider(ctx);
    const r = await atProvider(() =>
      reconcile(ctx.db, at, { from: new Date(query.from), to: new Date(query.to) }).catch((err: unknown) => {
        if (err instanceof ProviderListTooLarge) throw new ProblemError("RECONCILIATION_PERIOD_TOO_LARGE", { detail: `${err.message}: reconcile a shorter period.` });
        throw err;
      }),
    );
    return {
      status: 200,
      body: {
        from: r.period.from.toISOString(),
        to: r.period.to.toISOString(),
        matched: r.matched,
        missingInLedger: r.missingInLedger,
        missingAtProvider: r.missingAtProvider,
        mismatched: r.mismatched,
        payouts: r.payouts.map((p) => ({ ...p, arrivalDate: p.arrivalDate.toISOString() })),
      },
    };
  },
});

