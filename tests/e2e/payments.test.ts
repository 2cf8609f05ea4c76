import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { expectProblem } from "../support/problems.js";
import { createPayout, deliveredOk, payCheckout, resendStripeEvent, stripeEvents, waitForStripeDeliveries } from "../support/stripe.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Payments over HTTP against the runtime's Stripe emulator: a paid course's held seat paid through Checkout with
// its webhooks delivered twice and in reverse order, a partial refund with its credit note, manual payments and an
// overpayment held as credit, reconciliation finding a payment whose webhooks never came, and the bad inputs (bad
// or replayed signatures, an unknown invoice, a currency mismatch, bad amounts, a refund larger than what was
// paid): each a clear 4xx that changes nothing.

let db: TestDatabase;
let app: RunningApp;
let bursar: TestUser;
let payer: TestUser;
let banker: TestUser;
let lost: TestUser;
let switcher: TestUser;
let courseId: string;
let stripe: Stripe;
let payerInvoice: string;
let cardPaymentId: string;

const FEE = 100_000;
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });
const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;
const count = async (table: "payments" | "ledger_entries" | "refunds" | "provider_events" | "credit_notes") => (await db.sql<{ n: number }[]>`select count(*)::int as n from ${db.sql(table)}`)[0]!.n;
const counts = async () => ({ payments: await count("payments"), ledger: await count("ledger_entries"), refunds: await count("refunds"), creditNotes: await count("credit_notes") });
const enrollmentStatus = async (user: TestUser) => (await db.sql<{ status: string }[]>`select status from enrollments where course_id = ${courseId} and user_id = ${user.id}`)[0]?.status;
const balanceOf = async (user: TestUser) => (await json<{ items: { currency: string; balanceMinor: number }[] }>(await call(app, "GET", "/v1/me/balance", { token: user.accessToken }))).items;

async function enrollAndAwaitInvoice(user: TestUser): Promise<string> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken });
  expect(res.status).toBe(201);
  expect(await enrollmentStatus(user)).toBe("pending-payment");
  return until(`the invoice of ${user.email}`, async () => {
    const items = (await json<{ items: { id: string }[] }>(await call(app, "GET", "/v1/me/invoices", { token: user.accessToken }))).items;
    return items[0]?.id;
  });
}

async function checkout(user: TestUser, invoiceId: string, body?: unknown) {
  return call(app, "POST", `/v1/invoices/${invoiceId}/checkout`, { token: user.accessToken, ...(body ? { body } : {}) });
}

/** The Checkout Session behind a checkout answer (the emulator's page is /checkout/<id>). */
const sessionOf = (url: string) => new URL(url).pathname.split("/").pop()!;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase());
  let admin: TestUser;
  [admin, bursar, payer, banker, lost, switcher] = await Promise.all([
    signUp(app, db, { admin: true, label: "admin" }),
    signUp(app, db, { finance: true, label: "bursar" }),
    signUp(app, db, { label: "payer" }),
    signUp(app, db, { label: "banker" }),
    signUp(app, db, { label: "lost" }),
    signUp(app, db, { label: "switcher" }),
  ]);
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Paid Course 201" } });
  courseId = (await json<{ id: string }>(created)).id;
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken })).status).toBe(200);
  const fee = await call(app, "POST", `/v1/courses/${courseId}/fees`, { token: bursar.accessToken, body: { name: "Tuition", currency: "USD", amountMinor: FEE, requirement: "full" } });
  expect(fee.status, await fee.clone().text()).toBe(201);
});

afterAll(async () => {
  await stopAppAndDatabase({ db, app });
});

describe("payments", () => {
  it("pays a held seat through Checkout: webhooks twice and reversed make one payment, the seat active, the balance zero", async () => {
    payerInvoice = await enrollAndAwaitInvoice(payer);
    // A hold ending before the checkout does is kept until the checkout ends (it must not be released while payable).
    await db.sql`update enrollments set payment_due_at = now() + interval '5 minutes' where course_id = ${courseId} and user_id = ${payer.id}`;
    // Two clicks at once make one checkout: the other is handed the same one, or told to wait a moment.
    const racing = await Promise.all([checkout(payer, payerInvoice), checkout(payer, payerInvoice)]);
    const statuses = racing.map((r) => r.status).sort();
    expect([[200, 200], [200, 409]]).toContainEqual(statuses);
    const waiting = racing.find((r) => r.status === 409);
    if (waiting) {
      expect(waiting.headers.get("retry-after")).toBeTruthy();
      await expectProblem(waiting, 409, "CHECKOUT_IN_PROGRESS");
    }
    expect(await db.sql`select 1 from payment_attempts where invoice_id = ${payerInvoice}`).toHaveLength(1);
    const first = racing.find((r) => r.status === 200)!;
    const session = await json<{ url: string; amountMinor: number; currency: string; expiresAt: string }>(first);
    expect(session).toMatchObject({ amountMinor: FEE, currency: "USD" });
    const [held] = await db.sql<{ due: string }[]>`select payment_due_at::text as due from enrollments where course_id = ${courseId} and user_id = ${payer.id}`;
    expect(Date.parse(held!.due)).toBeGreaterThanOrEqual(Date.parse(session.expiresAt));
    // A second click hands out the same open checkout.
    expect((await json<{ url: string }>(await checkout(payer, payerInvoice))).url).toBe(session.url);
    // Someone else's invoice is not theirs to pay (nor to learn of).
    await expectProblem(await checkout(banker, payerInvoice), 404, "INVOICE_NOT_FOUND");
    stripe = new Stripe("sk_test_payments_e2e", { host: "127.0.0.1", port: Number(new URL(session.url).port), protocol: "http" });

    const paid = await payCheckout(app, sessionOf(session.url), { duplicates: 1, order: "reversed" });
    await waitForStripeDeliveries(app, deliveredOk("checkout.session.completed", "payment_intent.succeeded", "charge.succeeded"));
    const payments = await db.sql<{ id: string; amount_minor: number; provider_payment_id: string }[]>`select id, amount_minor::int as amount_minor, provider_payment_id from payments where invoice_id = ${payerInvoice}`;
    expect(payments).toEqual([expect.objectContaining({ amount_minor: FEE, provider_payment_id: paid.payment_intent })]);
    cardPaymentId = payments[0]!.id;
    expect(await enrollmentStatus(payer)).toBe("active");
    expect(await balanceOf(payer)).toEqual([expect.objectContaining({ currency: "USD", balanceMinor: 0 })]);
    const [attempt] = await db.sql<{ status: string }[]>`select status from payment_attempts where invoice_id = ${payerInvoice}`;
    expect(attempt!.status).toBe("completed");
    // Three events, each delivered twice: a copy has its event's id, so three are recorded.
    expect((await db.sql`select 1 from provider_events`).length).toBe(3);
    await expectProblem(await checkout(payer, payerInvoice), 409, "INVOICE_NOT_PAYABLE");
  });

  it("refuses bad and replayed signatures, changing nothing", async () => {
    const before = { ...(await counts()), events: await count("provider_events") };
    const [event] = (await stripeEvents(app)).filter((e) => e.type === "payment_intent.succeeded");
    const body = JSON.stringify(event!.event);
    const post = (headers: Record<string, string>) => fetch(`${app.baseUrl}/api/v1/payments/stripe/webhook`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    await expectProblem(await post({}), 400, "WEBHOOK_SIGNATURE_INVALID");
    await expectProblem(await post({ "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"ab".repeat(32)}` }), 400, "WEBHOOK_SIGNATURE_INVALID");
    const replayed = await resendStripeEvent(app, event!.id, { timestamp: Math.floor(Date.now() / 1000) - 3_600 });
    expect(replayed.status).toBe(400);
    expect(JSON.parse(replayed.body)).toMatchObject({ code: "WEBHOOK_SIGNATURE_INVALID" });
    // A fresh signature on a known event is a duplicate: 200, nothing more.
    const again = await resendStripeEvent(app, event!.id);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ duplicate: true });
    expect({ ...(await counts()), events: await count("provider_events") }).toEqual(before);
  });

  it("refuses a webhook payment for an unknown invoice or in another currency, recording nothing", async () => {
    const before = { ...(await counts()), events: await count("provider_events") };
    const make = (currency: string, invoiceId: string) =>
      stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ quantity: 1, price_data: { currency, unit_amount: 5_000, product_data: { name: "Odd" } } }],
        success_url: "http://localhost/ok",
        cancel_url: "http://localhost/no",
        metadata: { invoiceId },
        payment_intent_data: { metadata: { invoiceId } },
      });
    const unknown = await make("usd", crypto.randomUUID());
    const foreign = await make("eur", payerInvoice);
    await payCheckout(app, unknown.id);
    await payCheckout(app, foreign.id);
    const answered = (pi: string, status: number) => (events: Awaited<ReturnType<typeof stripeEvents>>) =>
      events.some((e) => e.type === "payment_intent.succeeded" && e.event.data.object.id === pi && e.deliveries.some((d) => d.status === status));
    const paidUnknown = await stripe.checkout.sessions.retrieve(unknown.id);
    const paidForeign = await stripe.checkout.sessions.retrieve(foreign.id);
    const events = await waitForStripeDeliveries(app, (e) => answered(paidUnknown.payment_intent as string, 422)(e) && answered(paidForeign.payment_intent as string, 422)(e));
    const replies = await Promise.all(
      events.filter((e) => e.type === "payment_intent.succeeded" && [paidUnknown.payment_intent, paidForeign.payment_intent].includes(e.event.data.object.id)).map((e) => resendStripeEvent(app, e.id)),
    );
    expect(replies.map((r) => [r.status, (JSON.parse(r.body) as { code: string }).code]).sort()).toEqual([
      [422, "CURRENCY_MISMATCH"],
      [422, "WEBHOOK_EVENT_UNKNOWN_INVOICE"],
    ]);
    expect({ ...(await counts()), events: await count("provider_events") }).toEqual(before);
  });

  it("refunds part of a card payment with a credit note, once, and refuses more than is left", async () => {
    const refund = await call(app, "POST", `/v1/payments/${cardPaymentId}/refunds`, { token: bursar.accessToken, body: { amountMinor: 30_000, reason: "Dropped a module" }, headers: { "idempotency-key": "refund-1" } });
    expect(refund.status).toBe(201);
    const made = await json<{ id: string; status: string; providerRefundId: string; method: string }>(refund);
    expect(made).toMatchObject({ status: "succeeded", method: "provider" });
    expect(made.providerRefundId).toMatch(/^re_/);
    await waitForStripeDeliveries(app, deliveredOk("charge.refunded", "refund.created"));
    const notes = await db.sql<{ amount_minor: number }[]>`select amount_minor::int as amount_minor from credit_notes where refund_id = ${made.id}`;
    expect(notes).toEqual([{ amount_minor: 30_000 }]);
    expect(await db.sql`select 1 from refunds where payment_id = ${cardPaymentId}`).toHaveLength(1);
    expect(await balanceOf(payer)).toEqual([expect.objectContaining({ balanceMinor: 0 })]);
    // The same Idempotency-Key replays the answer; nothing is refunded twice.
    const replay = await call(app, "POST", `/v1/payments/${cardPaymentId}/refunds`, { token: bursar.accessToken, body: { amountMinor: 30_000, reason: "Dropped a module" }, headers: { "idempotency-key": "refund-1" } });
    expect((await json<{ id: string }>(replay)).id).toBe(made.id);

    const before = await counts();
    const charge = async () => (await stripe.paymentIntents.retrieve((await db.sql<{ p: string }[]>`select provider_payment_id as p from payments where id = ${cardPaymentId}`)[0]!.p)).latest_charge as string;
    const refundedAtStripe = (await stripe.charges.retrieve(await charge())).amount_refunded;
    await expectProblem(await call(app, "POST", `/v1/payments/${cardPaymentId}/refunds`, { token: bursar.accessToken, body: { amountMinor: 70_001, reason: "Too much" } }), 422, "REFUND_EXCEEDS_PAYMENT");
    await expectProblem(await call(app, "POST", `/v1/payments/${cardPaymentId}/refunds`, { token: bursar.accessToken, body: { amountMinor: -5, reason: "Negative" } }), 400, "VALIDATION_FAILED");
    await expectProblem(await call(app, "POST", `/v1/payments/${crypto.randomUUID()}/refunds`, { token: bursar.accessToken, body: { amountMinor: 5, reason: "Nobody's" } }), 404, "PAYMENT_NOT_FOUND");
    expect((await call(app, "POST", `/v1/payments/${cardPaymentId}/refunds`, { token: payer.accessToken, body: { amountMinor: 5, reason: "Mine" } })).status).toBe(403);
    expect(await counts()).toEqual(before);
    expect((await stripe.charges.retrieve(await charge())).amount_refunded).toBe(refundedAtStripe);
  });

  it("records manual payments (idempotent, audited), holds an overpayment as credit, and refuses bad ones", async () => {
    const invoiceId = await enrollAndAwaitInvoice(banker);
    const pay = (body: Record<string, unknown>, key?: string) =>
      call(app, "POST", `/v1/invoices/${invoiceId}/payments`, { token: bursar.accessToken, body, ...(key ? { headers: { "idempotency-key": key } } : {}) });
    const before = await counts();
    await expectProblem(await pay({ method: "bank-transfer", amountMinor: 1_000, currency: "EUR", reference: "X" }), 422, "CURRENCY_MISMATCH");
    await expectProblem(await pay({ method: "bank-transfer", amountMinor: -1_000, currency: "USD", reference: "X" }), 400, "VALIDATION_FAILED");
    await expectProblem(await pay({ method: "bank-transfer", amountMinor: 12.5, currency: "USD", reference: "X" }), 400, "VALIDATION_FAILED");
    await expectProblem(await pay({ method: "cash", amountMinor: 1_000, currency: "USD", reference: "a\u0000b" }), 400, "VALIDATION_FAILED");
    expect((await call(app, "POST", `/v1/invoices/${invoiceId}/payments`, { token: banker.accessToken, body: { method: "cash", amountMinor: 1, currency: "USD", reference: "self" } })).status).toBe(403);
    expect(await counts()).toEqual(before);

    const first = await pay({ method: "bank-transfer", amountMinor: 60_000, currency: "USD", reference: "BT-2026-0001" }, "bt-1");
    expect(first.status).toBe(201);
    const replay = await pay({ method: "bank-transfer", amountMinor: 60_000, currency: "USD", reference: "BT-2026-0001" }, "bt-1");
    const firstId = (await json<{ id: string }>(first)).id;
    expect((await json<{ id: string }>(replay)).id).toBe(firstId);
    // The same transfer recorded again without the key is a duplicate, recording nothing.
    const again = await counts();
    expect((await expectProblem(await pay({ method: "bank-transfer", amountMinor: 60_000, currency: "USD", reference: "BT-2026-0001" }), 409, "PAYMENT_DUPLICATE")).paymentId).toBe(firstId);
    expect(await counts()).toEqual(again);
    expect(await enrollmentStatus(banker)).toBe("pending-payment");
    expect((await pay({ method: "cash", amountMinor: 50_000, currency: "USD", reference: "R-17" })).status).toBe(201);
    expect(await enrollmentStatus(banker)).toBe("active");
    // 110,000 paid for 100,000: 10,000 held as credit.
    expect(await balanceOf(banker)).toEqual([expect.objectContaining({ currency: "USD", balanceMinor: -10_000 })]);
    expect(await db.sql`select 1 from payments where invoice_id = ${invoiceId}`).toHaveLength(2);
    expect(await db.sql`select 1 from audit_log where action = 'payment.recorded'`).toHaveLength(2);

    // Giving the credit back is no credit note: the invoice keeps asking what it asked.
    const [cash] = await db.sql<{ id: string }[]>`select id from payments where invoice_id = ${invoiceId} and method = 'cash'`;
    const back = await call(app, "POST", `/v1/payments/${cash!.id}/refunds`, { token: bursar.accessToken, body: { amountMinor: 10_000, reason: "Overpaid", reference: "R-17-back" } });
    expect(back.status).toBe(201);
    const given = await json<{ id: string; method: string; status: string }>(back);
    expect(given).toMatchObject({ method: "manual", status: "succeeded" });
    expect(await db.sql`select 1 from credit_notes where refund_id = ${given.id}`).toHaveLength(0);
    expect(await balanceOf(banker)).toEqual([expect.objectContaining({ balanceMinor: 0 })]);
  });

  it("expires the open checkout at the provider before making one for another amount", async () => {
    const invoiceId = await enrollAndAwaitInvoice(switcher);
    const before = await json<{ url: string }>(await checkout(switcher, invoiceId));
    const paid = await call(app, "POST", `/v1/invoices/${invoiceId}/payments`, { token: bursar.accessToken, body: { method: "bank-transfer", amountMinor: 40_000, currency: "USD", reference: "BT-SWITCH-1" } });
    expect(paid.status).toBe(201);
    const after = await checkout(switcher, invoiceId);
    expect(after.status).toBe(200);
    const now = await json<{ url: string; amountMinor: number }>(after);
    expect(now.amountMinor).toBe(FEE - 40_000);
    expect(sessionOf(now.url)).not.toBe(sessionOf(before.url));
    expect((await stripe.checkout.sessions.retrieve(sessionOf(before.url))).status).toBe("expired");
    const attempts = await db.sql<{ status: string }[]>`select status from payment_attempts where invoice_id = ${invoiceId} order by attempt`;
    expect(attempts.map((a) => a.status)).toEqual(["expired", "open"]);
  });

  it("reconciles the provider's balance and payouts with the ledger, finding a payment whose webhooks never came", async () => {
    const invoiceId = await enrollAndAwaitInvoice(lost);
    const session = await json<{ url: string }>(await checkout(lost, invoiceId));
    const paid = await payCheckout(app, sessionOf(session.url), { deliver: "none" });
    const payout = await createPayout(app, { currency: "usd" });
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    await expectProblem(await call(app, "GET", `/v1/finance/reconciliation?from=${to}&to=${from}`, { token: bursar.accessToken }), 400, "VALIDATION_FAILED");
    expect((await call(app, "GET", `/v1/finance/reconciliation?from=${from}&to=${to}`, { token: payer.accessToken })).status).toBe(403);
    const res = await call(app, "GET", `/v1/finance/reconciliation?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { token: bursar.accessToken });
    expect(res.status).toBe(200);
    const report = await json<{
      matched: { kind: string; providerObjectId: string }[];
      missingInLedger: { kind: string; providerObjectId: string; providerAmountMinor: number }[];
      mismatched: unknown[];
      payouts: { id: string; amountMinor: number; ledgerMinor: number; feesMinor: number }[];
    }>(res);
    expect(report.missingInLedger).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "payment", providerObjectId: paid.payment_intent, providerAmountMinor: FEE })]));
    expect(report.matched).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "refund" }), expect.objectContaining({ kind: "payment" })]));
    expect(report.mismatched).toEqual([]);
    const line = report.payouts.find((p) => p.id === payout.id);
    expect(line).toBeDefined();
    // The payout carries the recorded card payment less its refund (the lost payment and the refused ones are not in the ledger).
    expect(line!.ledgerMinor).toBe(FEE - 30_000);
    expect(await enrollmentStatus(lost)).toBe("pending-payment");
  });
});
