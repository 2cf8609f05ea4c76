// The local runtime's Stripe emulator, driven through its admin API (`/admin/stripe`, see
// packages/local-runtime/src/services/stripe-admin.ts): paying a Checkout Session as a customer would, the events it
// made and their deliveries to the app, resending one (optionally with an old signature timestamp), payouts.
import type { PayOptions as PayCheckoutOptions, StoredEvent as StripeEventRecord } from "@ringlet/local-runtime/stripe";
import type { RunningApp } from "./app.js";
import { recentErrors, waitFor } from "./wait-for.js";

export type { Delivery as StripeDelivery, PayOptions as PayCheckoutOptions, StoredEvent as StripeEventRecord } from "@ringlet/local-runtime/stripe";

async function admin<T>(app: RunningApp, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${app.baseUrl}/admin/stripe${path}`, {
    method,
    ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /admin/stripe${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Pays the Checkout Session as the customer would on the hosted page; answers the completed session (with its
 * `payment_intent`). The events checkout.session.completed, payment_intent.succeeded and charge.succeeded are
 * delivered afterwards, asynchronously: wait for them with `waitForStripeDeliveries`.
 */
export const payCheckout = (app: RunningApp, sessionId: string, options: PayCheckoutOptions = {}): Promise<{ id: string; status: string; payment_status: string; payment_intent: string; amount_total: number; currency: string }> =>
  admin(app, "POST", `/checkout/${encodeURIComponent(sessionId)}/pay`, options);

/** Every event the emulator made, newest first, with its deliveries. */
export const stripeEvents = (app: RunningApp): Promise<StripeEventRecord[]> => admin(app, "GET", "/events");

/** Polls the events until `predicate` holds and returns them (newest first). */
export const waitForStripeDeliveries = (app: RunningApp, predicate: (events: StripeEventRecord[]) => boolean, options: { timeoutMs?: number } = {}): Promise<StripeEventRecord[]> =>
  waitFor(
    "Stripe webhook deliveries",
    async () => {
      const events = await stripeEvents(app);
      return predicate(events) ? events : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 20_000, diagnostics: () => recentErrors(app) },
  );

/** Every delivery of these event types finished (none pending) and the app answered the last try with a 2xx. */
export const deliveredOk = (...types: string[]) => (events: StripeEventRecord[]): boolean => {
  const wanted = events.filter((e) => types.includes(e.type));
  return (
    types.every((t) => wanted.some((e) => e.type === t)) &&
    wanted.every((e) => e.pendingDeliveries === 0 && e.deliveries.some((d) => d.status !== null && d.status >= 200 && d.status < 300))
  );
};

/** No delivery is queued or waiting for a retry (whatever the app answered). */

/** Sends the event to the app again, now; `timestamp` (unix seconds) signs it as of then (an old one is a replay). */
export const resendStripeEvent = (app: RunningApp, eventId: string, options: { timestamp?: number } = {}): Promise<{ status: number | null; body: string }> =>
  admin(app, "POST", `/events/${encodeURIComponent(eventId)}/resend`, options);

/**
 * Pays out everything available (only `currency` when given); one payout per currency, each with `payout.paid`.
 * Answers the first (the currency whose oldest unpaid transaction is oldest); `GET /v1/payouts` lists them all.
 */
export const createPayout = (app: RunningApp, options: { currency?: string } = {}): Promise<{ id: string; amount: number; currency: string; status: string; balance_transaction: string }> =>
  admin(app, "POST", "/payouts", options);
