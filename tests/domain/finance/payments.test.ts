import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueInvoicesForEnrollment } from "../../../domain/finance/invoices.js";
import { type PaymentProvider, type ProviderEvent, type ProviderPayment, type ProviderRefund, ProviderUnavailable } from "../../../domain/finance/payment-provider.js";
import { handleProviderEvent } from "../../../domain/finance/provider-events.js";
import { refundPayment } from "../../../domain/finance/refunds.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { paymentsConfigured, paymentWebhookConfigured } from "../../../functions/platform/settings.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { inTransactionOf } from "../../support/domain-database.js";
import { insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";
import { testSettings } from "../../support/settings.js";

// The payment domain against a provider written for the test (the port, not an SDK): what the provider reports
// is checked like any input, events apply once whatever their order, racing deliveries make one payment.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 10 });
});
afterAll(async () => {
  await db?.drop();
});

const ctx = (): DomainContext => ({ db: db.db, now: () => new Date(), newId: uuidv7, actor: { userId: null, requestId: null, clientIp: null, traceparent: null } });
const inTx = <T>(op: (c: DomainContext) => Promise<T>): Promise<T> => inTransactionOf(db, ctx())(op);
const n = async (table: string) => (await db.sql<{ n: number }[]>`select count(*)::int as n from ${db.sql(table)}`)[0]!.n;
const counts = async () => ({ payments: await n("payments"), refunds: await n("refunds"), ledger: await n("ledger_entries"), events: await n("provider_events") });

/** A provider whose state the test sets: payments and refunds by payment id. */
function fakeProvider() {
  const payments = new Map<string, ProviderPayment>();
  const refunds = new Map<string, ProviderRefund[]>();
  /** Refunds by idempotency key, like Stripe: the same key answers the refund it made. */
  const byKey = new Map<string, ProviderRefund>();
  /** The next refund is made but its answer is lost (a timeout after Stripe acted). */
  const faults = { timeoutAfterRefund: false };
  const provider: PaymentProvider = {
    name: "stripe",
    createCheckout: () => Promise.reject(new Error("not used")),
    expireCheckout: () => Promise.reject(new Error("not used")),
    retrievePayment: (id) => Promise.resolve(payments.get(id) ?? null),
    listRefunds: (id) => Promise.resolve(refunds.get(id) ?? []),
    refund: (r) => {
      const known = byKey.get(r.idempotencyKey);
      if (known) return Promise.resolve(known);
      const made = { id: `re_${uuidv7()}`, paymentId: r.paymentId, status: "succeeded", amountMinor: r.amountMinor, currency: "USD", metadata: r.metadata };
      refunds.set(r.paymentId, [...(refunds.get(r.paymentId) ?? []), made]);
      byKey.set(r.idempotencyKey, made);
      if (faults.timeoutAfterRefund) {
        faults.timeoutAfterRefund = false;
        return Promise.reject(new ProviderUnavailable("timed out"));
      }
      return Promise.resolve(made);
    },
    listPayouts: () => Promise.resolve([]),
    listBalanceTransactions: () => Promise.resolve([]),
  };
  return { provider, payments, refunds, faults };
}

async function invoice(amountMinor = 50_000): Promise<{ invoiceId: string; userId: string }> {
  const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
  await db.sql`insert into fees (id, course_id, name, currency, amount_minor) values (${uuidv7()}, ${courseId}, 'Tuition', 'USD', ${amountMinor})`;
  const [userId] = await insertLearners(db.sql, 1, "payer");
  const enrollmentId = uuidv7();
  await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${enrollmentId}, ${courseId}, ${userId!}, 'active', 'self')`;
  const [invoiceId] = await inTx((c) => issueInvoicesForEnrollment(c, enrollmentId));
  return { invoiceId: invoiceId!, userId: userId! };
}

/** Two invoices of one learner in one currency (two courses). */
async function twoInvoices(amountMinor: number): Promise<{ userId: string; invoiceIds: string[] }> {
  const [userId] = await insertLearners(db.sql, 1, "twice");
  const invoiceIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    await db.sql`insert into fees (id, course_id, name, currency, amount_minor) values (${uuidv7()}, ${courseId}, 'Tuition', 'USD', ${amountMinor})`;
    const enrollmentId = uuidv7();
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${enrollmentId}, ${courseId}, ${userId!}, 'active', 'self')`;
    invoiceIds.push(...(await inTx((c) => issueInvoicesForEnrollment(c, enrollmentId))));
  }
  return { userId: userId!, invoiceIds };
}

const event = (type: string, subject: ProviderEvent["subject"]): ProviderEvent => ({ id: `evt_${uuidv7()}`, type, occurredAt: new Date(), objectId: "x", subject });
const succeeded = (id: string, invoiceId: string, amountMinor: number, currency = "USD"): ProviderPayment => ({ id, status: "succeeded", amountMinor, currency, metadata: { invoiceId }, createdAt: new Date() });

describe("provider payments", () => {
  it("refuses a negative, fractional or unsafe amount, a foreign currency and an unknown invoice, recording nothing", async () => {
    const { invoiceId } = await invoice();
    const { provider, payments } = fakeProvider();
    const cases: [ProviderPayment, string][] = [
      [succeeded("pi_negative", invoiceId, -500), "PAYMENT_AMOUNT_INVALID"],
      [succeeded("pi_fraction", invoiceId, 12.5), "PAYMENT_AMOUNT_INVALID"],
      [succeeded("pi_huge", invoiceId, 2 ** 60), "PAYMENT_AMOUNT_INVALID"],
      [succeeded("pi_euro", invoiceId, 500, "eur"), "CURRENCY_MISMATCH"],
      [succeeded("pi_nobody", uuidv7(), 500), "WEBHOOK_EVENT_UNKNOWN_INVOICE"],
      [succeeded("pi_garbage", "'; drop table invoices; --", 500), "WEBHOOK_EVENT_UNKNOWN_INVOICE"],
    ];
    const before = await counts();
    for (const [payment, code] of cases) {
      payments.set(payment.id, payment);
      const result = await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: payment.id }));
      expect(result, payment.id).toMatchObject({ ok: false, error: { code } });
    }
    expect(await counts()).toEqual(before);
  });

  it("records a refund reported before its payment: the payment first, each once, whatever comes again", async () => {
    const { invoiceId, userId } = await invoice(50_000);
    const { provider, payments, refunds } = fakeProvider();
    payments.set("pi_early", succeeded("pi_early", invoiceId, 50_000));
    refunds.set("pi_early", [{ id: "re_early", paymentId: "pi_early", status: "succeeded", amountMinor: 20_000, currency: "usd", metadata: {} }]);
    const refunded = event("charge.refunded", { kind: "refund", paymentId: "pi_early" });
    expect(await handleProviderEvent(ctx(), provider, refunded)).toMatchObject({ ok: true, value: { duplicate: false, applied: "refund" } });
    expect(await handleProviderEvent(ctx(), provider, refunded)).toMatchObject({ ok: true, value: { duplicate: true } });
    expect(await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: "pi_early" }))).toMatchObject({ ok: true, value: { duplicate: false } });
    expect(await db.sql`select 1 from payments where provider_payment_id = 'pi_early'`).toHaveLength(1);
    expect(await db.sql`select 1 from refunds where provider_refund_id = 're_early'`).toHaveLength(1);
    // Paid 50,000, 20,000 given back with a credit note for it: the invoice asks 30,000 and has it; nothing owed.
    const [balance] = await db.sql<{ b: number }[]>`select sum(amount_minor)::int as b from ledger_entries where user_id = ${userId}`;
    expect(balance!.b).toBe(0);
    expect(await db.sql`select 1 from credit_notes where invoice_id = ${invoiceId}`).toHaveLength(1);
  });

  it("makes one payment of racing deliveries of different events about it", async () => {
    const { invoiceId } = await invoice(40_000);
    const { provider, payments } = fakeProvider();
    payments.set("pi_race", succeeded("pi_race", invoiceId, 40_000));
    const results = await Promise.all(
      ["checkout.session.completed", "payment_intent.succeeded", "charge.succeeded", "charge.succeeded"].map((type) => handleProviderEvent(ctx(), provider, event(type, { kind: "payment", paymentId: "pi_race" }))),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await db.sql`select 1 from payments where provider_payment_id = 'pi_race'`).toHaveLength(1);
    expect(await db.sql`select 1 from ledger_entries where invoice_id = ${invoiceId} and kind = 'payment'`).toHaveLength(1);
    expect(await db.sql`select 1 from outbox where type = 'payment.received' and aggregate_id = ${invoiceId}`).toHaveLength(1);
  });

  it("never refunds more than was paid, even when two refunds race", async () => {
    const { invoiceId } = await invoice(30_000);
    const { provider, payments } = fakeProvider();
    payments.set("pi_refund_race", succeeded("pi_refund_race", invoiceId, 30_000));
    await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: "pi_refund_race" }));
    const paymentId = (await db.sql<{ id: string }[]>`select id from payments where provider_payment_id = 'pi_refund_race'`)[0]!.id;
    const results = await Promise.all([0, 1].map(() => refundPayment(ctx(), provider, { paymentId, amountMinor: 20_000, reason: "Race" })));
    expect(results.map((r) => (r.ok ? "ok" : r.error.code)).sort()).toEqual(["REFUND_EXCEEDS_PAYMENT", "ok"]);
    expect(await db.sql`select 1 from refunds where payment_id = ${paymentId}`).toHaveLength(1);
  });

  it("takes a learner's invoice locks in one order: two overpayments of their two invoices at once both land (no deadlock)", async () => {
    for (let round = 0; round < 3; round++) {
      const { userId, invoiceIds } = await twoInvoices(10_000);
      const { provider, payments } = fakeProvider();
      invoiceIds.forEach((invoiceId, i) => payments.set(`pi_cross_${round}_${i}`, succeeded(`pi_cross_${round}_${i}`, invoiceId, 15_000)));
      const results = await Promise.all(invoiceIds.map((_, i) => handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: `pi_cross_${round}_${i}` }))));
      expect(results.every((r) => r.ok)).toBe(true);
      const [balance] = await db.sql<{ b: number }[]>`select sum(amount_minor)::int as b from ledger_entries where user_id = ${userId}`;
      expect(balance!.b).toBe(-10_000);
    }
  });

  it("refuses to refund the part of a payment that was applied as credit to another invoice", async () => {
    const { invoiceIds } = await twoInvoices(10_000);
    const { provider, payments } = fakeProvider();
    payments.set("pi_spread", succeeded("pi_spread", invoiceIds[0]!, 15_000));
    await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: "pi_spread" }));
    const paymentId = (await db.sql<{ id: string }[]>`select id from payments where provider_payment_id = 'pi_spread'`)[0]!.id;
    // 5,000 of the 15,000 paid the other invoice: 10,000 is left here to refund.
    const refused = await refundPayment(ctx(), provider, { paymentId, amountMinor: 12_000, reason: "Too much" });
    expect(refused).toMatchObject({ ok: false, error: { code: "REFUND_EXCEEDS_PAYMENT", detail: expect.stringContaining("another invoice") } });
    expect(await db.sql`select 1 from refunds where payment_id = ${paymentId}`).toHaveLength(0);
    expect(await refundPayment(ctx(), provider, { paymentId, amountMinor: 10_000, reason: "What is left" })).toMatchObject({ ok: true });
  });

  it("refunds on an invoice not fully paid forgive no debt unless asked (cancelCharge)", async () => {
    const { invoiceId, userId } = await invoice(50_000);
    const { provider, payments } = fakeProvider();
    payments.set("pi_part", succeeded("pi_part", invoiceId, 20_000));
    await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: "pi_part" }));
    const paymentId = (await db.sql<{ id: string }[]>`select id from payments where provider_payment_id = 'pi_part'`)[0]!.id;
    const owed = async () => (await db.sql<{ b: number }[]>`select sum(amount_minor)::int as b from ledger_entries where user_id = ${userId}`)[0]!.b;
    expect(await refundPayment(ctx(), provider, { paymentId, amountMinor: 5_000, reason: "Default" })).toMatchObject({ ok: true });
    expect(await db.sql`select 1 from credit_notes where invoice_id = ${invoiceId}`).toHaveLength(0);
    expect(await owed()).toBe(35_000);
    expect(await refundPayment(ctx(), provider, { paymentId, amountMinor: 5_000, reason: "Cancelled", cancelCharge: true })).toMatchObject({ ok: true });
    expect(await db.sql<{ a: number }[]>`select amount_minor::int as a from credit_notes where invoice_id = ${invoiceId}`).toEqual([{ a: 5_000 }]);
    expect(await owed()).toBe(35_000);
  });

  it("refunds once at the provider when the answer is lost: the pending row counts, the retry with the same key finishes it", async () => {
    const { invoiceId } = await invoice(30_000);
    const { provider, payments, refunds, faults } = fakeProvider();
    payments.set("pi_refund_lost", succeeded("pi_refund_lost", invoiceId, 30_000));
    await handleProviderEvent(ctx(), provider, event("payment_intent.succeeded", { kind: "payment", paymentId: "pi_refund_lost" }));
    const paymentId = (await db.sql<{ id: string }[]>`select id from payments where provider_payment_id = 'pi_refund_lost'`)[0]!.id;
    const request = { paymentId, amountMinor: 20_000, reason: "Dropped", requestKey: "bursar:key-1" };
    faults.timeoutAfterRefund = true;
    await expect(refundPayment(ctx(), provider, request)).rejects.toBeInstanceOf(ProviderUnavailable);
    const [pending] = await db.sql<{ id: string; status: string }[]>`select id, status from refunds where payment_id = ${paymentId}`;
    expect(pending!.status).toBe("pending");
    // The pending refund counts: 20,000 of 30,000 are under way.
    expect(await refundPayment(ctx(), provider, { paymentId, amountMinor: 20_000, reason: "Another" })).toMatchObject({ ok: false, error: { code: "REFUND_EXCEEDS_PAYMENT" } });
    const retried = await refundPayment(ctx(), provider, request);
    expect(retried).toMatchObject({ ok: true, value: { id: pending!.id, status: "succeeded" } });
    expect(await refundPayment(ctx(), provider, request)).toMatchObject({ ok: true, value: { id: pending!.id, status: "succeeded" } });
    expect(refunds.get("pi_refund_lost")).toHaveLength(1);
    expect(await db.sql`select 1 from refunds where payment_id = ${paymentId}`).toHaveLength(1);
    expect(await db.sql`select 1 from ledger_entries where invoice_id = ${invoiceId} and kind = 'refund'`).toHaveLength(1);
    // The webhook about the same refund finds the row and changes nothing.
    const before = await counts();
    await handleProviderEvent(ctx(), provider, event("charge.refunded", { kind: "refund", paymentId: "pi_refund_lost" }));
    expect({ ...(await counts()), events: 0 }).toEqual({ ...before, events: 0 });
    expect(await refundPayment(ctx(), provider, { ...request, amountMinor: 5_000 })).toMatchObject({ ok: false, error: { code: "IDEMPOTENCY_KEY_REUSED" } });
  });
});

describe("Stripe settings", () => {
  it("treats an empty key or an unresolved Key Vault reference as payments not configured", () => {
    expect(paymentsConfigured(testSettings())).toBe(false);
    expect(paymentsConfigured(testSettings({ STRIPE_SECRET_KEY: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/stripe-secret-key)" }))).toBe(false);
    expect(paymentsConfigured(testSettings({ STRIPE_SECRET_KEY: "sk_test_abc" }))).toBe(true);
    expect(paymentWebhookConfigured(testSettings({ STRIPE_SECRET_KEY: "sk_test_abc" }))).toBe(false);
    expect(paymentWebhookConfigured(testSettings({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_abc" }))).toBe(true);
  });

  it("refuses a live key against the local emulator, and the development values outside local", () => {
    expect(() => testSettings({ STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_API_URL: "http://127.0.0.1:12111" })).toThrow(/STRIPE_SECRET_KEY/);
    const azure = { BlobStorage: "", BlobStorage__serviceUri: "https://acct.blob.core.windows.net", EVALUATION_RECEIPT_KEY: "r".repeat(40) };
    expect(() => testSettings({ ...azure, STRIPE_SECRET_KEY: "sk_test_local_development" })).toThrow(/STRIPE_API_URL/);
    expect(() => testSettings({ ...azure, STRIPE_API_URL: "http://127.0.0.1:12111" })).toThrow(/STRIPE_API_URL/);
    expect(paymentsConfigured(testSettings({ ...azure, STRIPE_SECRET_KEY: "sk_live_abc" }))).toBe(true);
  });
});
