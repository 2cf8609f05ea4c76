// The hosted Checkout page a session's `url` points at (GET /checkout/<id> on the emulator): the amount and a Pay
// button that does what POST /admin/stripe/checkout/<id>/pay does, so someone running `npm start` can pay by hand.
import { escapeHtml } from "../html.js";
import type { CheckoutSession } from "./stripe-state.js";

/** Amounts in minor units shown with the currency's usual digits (Intl knows them). */
export function formatAmount(amount: number, currency: string): string {
  try {
    const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat("en", { style: "currency", currency, minimumFractionDigits: digits }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency.toUpperCase()} (minor units)`;
  }
}

export function renderCheckoutPage(session: CheckoutSession, names: string[], message?: string): string {
  const amount = formatAmount(session.amount_total, session.currency);
  const open = session.status === "open";
  const next = session.status === "complete" ? session.success_url : session.status === "expired" ? session.cancel_url : null;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pay ${escapeHtml(amount)} (Stripe emulator)</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.6rem 1.4rem}.muted{color:#666}</style>
</head><body>
<p class="muted">Stripe Checkout (local emulator, test mode)</p>
<h1>${escapeHtml(amount)}</h1>
<ul>${names.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>
${session.customer_email ? `<p>${escapeHtml(session.customer_email)}</p>` : ""}
${message ? `<p><strong>${escapeHtml(message)}</strong></p>` : ""}
${
  open
    ? `<form method="post" action="/checkout/${encodeURIComponent(session.id)}/pay"><button type="submit">Pay ${escapeHtml(amount)}</button></form>
${session.cancel_url ? `<p><a href="${escapeHtml(session.cancel_url)}">Cancel</a></p>` : ""}`
    : `<p>This session is ${escapeHtml(session.status)}.</p>${next ? `<p><a href="${escapeHtml(next)}">Continue</a></p>` : ""}`
}
</body></html>`;
}
