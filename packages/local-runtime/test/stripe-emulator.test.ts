// The development Stripe, driven by the real `stripe` package the app uses: Checkout Sessions with idempotency keys,
// paying through the admin route, signed webhooks checked with stripe.webhooks.constructEvent (duplicates, reversed
// order, retries, replayed signatures), refunds, expiry, payouts and balance transactions, a bad API key; and the
// runtime's wiring of the two settings. Only the emulator starts here (no runtime process).
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startStripeEmulator, developmentStripeWebhookSettings, activeStripeEmulator, type StripeEmulator } from "../src/services/stripe-emulator.js";
import { handleStripeAdminRequest } from "../src/services/stripe-admin.js";
import { handleMailboxRequest } from "../src/mailbox-page.js";
import { startBackingServices } from "../src/backing-services.js";
import type { StoredEvent } from "../src/services/stripe-webhooks.js";
import { copyFixture, startRuntime } from "./runtime-harness.js";
import { formList, parseForm } from "../src/services/stripe-form.js";

interface Received {
  body: string;
  signature: string;
}

let emulator: StripeEmulator;
let stripe: Stripe;
let hook: Server;
let admin: Server;
let adminUrl: string;
let received: Received[] = [];
/** How many of the next deliveries of `refuseType` the test endpoint refuses with a 500. */
let refuseNext = 0;
let refuseType = "";
/** Deliveries being answered right now, and the most at once. */
let inFlight = 0;
let maxInFlight = 0;
/** How long the test endpoint takes to answer (so racing deliveries overlap). */
let answerDelayMs = 0;

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.on("finish", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void new Promise((r) => setTimeout(r, answerDelayMs)).then(() => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (refuseNext > 0 && (JSON.parse(body) as { type: string }).type === refuseType) {
        refuseNext--;
        res.statusCode = 500;
        res.end("not now");
        return;
      }
      const signature = String(req.headers["stripe-signature"]);
      received.push({ body, signature });
      // Like the app: a signature that does not verify is a 400.
      try {
        stripe.webhooks.constructEvent(body, signature, emulator.webhookSecret);
        res.statusCode = 200;
        res.end("ok");
      } catch (error) {
        res.statusCode = 400;
        res.end(error instanceof Error ? error.message : "bad");
      }
    }));
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/api/v1/payments/stripe/webhook`;
  emulator = await startStripeEmulator({ webhookUrls: () => [hookUrl], retryDelaysMs: [50, 100, 200] });
  const api = new URL(emulator.apiUrl);
  stripe = new Stripe("sk_test_local_development", { host: api.hostname, port: Number(api.port), protocol: "http", maxNetworkRetries: 0 });
  admin = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    const method = req.method ?? "GET";
    void (async () =>
      (await handleStripeAdminRequest(emulator, pathname, method, req, res)) ||
      (await handleMailboxRequest({ mail: undefined, stripe: emulator }, pathname, method, req, res)))().then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => admin.listen(0, "127.0.0.1", resolve));
  adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([emulator?.stop(), new Promise((r) => hook?.close(r)), new Promise((r) => admin?.close(r))]);
});

beforeEach(async () => {
  // The previous test's deliveries (and retries) finish first, so each test counts only its own.
  while (emulator.events().some((e) => e.pendingDeliveries > 0)) await new Promise((r) => setTimeout(r, 20));
  received = [];
  refuseNext = 0;
  maxInFlight = 0;
  answerDelayMs = 0;
});

const postAdmin = (path: string, body?: unknown): Promise<Response> =>
  fetch(`${adminUrl}/admin/stripe${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? "" : JSON.stringify(body) });

const sessionParams = (overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams => ({
  mode: "payment",
  line_items: [{ price_data: { currency: "EUR", unit_amount: 12_500, product_data: { name: "Course fee" } }, quantity: 2 }],
  success_url: "http://127.0.0.1/paid?session={CHECKOUT_SESSION_ID}",
  cancel_url: "http://127.0.0.1/cancelled",
  customer_email: "learner@example.test",
  client_reference_id: "inv-42",
  metadata: { invoiceId: "inv-42", kind: "session" },
  payment_intent_data: { metadata: { kind: "intent", enrollmentId: "enr-7" } },
  ...overrides,
});

/** Waits until `count` deliveries reached the test endpoint, and verifies each with the real SDK. */
async function verifiedEvents(count: number): Promise<Stripe.Event[]> {
  const deadline = Date.now() + 10_000;
  while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(received).toHaveLength(count);
  return received.map((r) => stripe.webhooks.constructEvent(r.body, r.signature, emulator.webhookSecret));
}

async function paidSession(): Promise<{ session: Stripe.Checkout.Session; paymentIntent: string }> {
  const session = await stripe.checkout.sessions.create(sessionParams());
  const response = await postAdmin(`/checkout/${session.id}/pay`);
  expect(response.status).toBe(200);
  const paid = (await response.json()) as { payment_intent: string };
  await verifiedEvents(3);
  received = [];
  return { session, paymentIntent: paid.payment_intent };
}

describe("Stripe emulator API", () => {
  it("creates a Checkout Session as Stripe answers it, and answers it again by id", async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    expect(session).toMatchObject({
      object: "checkout.session",
      status: "open",
      payment_status: "unpaid",
      amount_total: 25_000,
      currency: "eur",
      client_reference_id: "inv-42",
      metadata: { invoiceId: "inv-42", kind: "session" },
      payment_intent: null,
      mode: "payment",
    });
    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]+$/);
    expect(session.url).toBe(`${emulator.apiUrl}/checkout/${session.id}`);
    expect(session.expires_at - session.created).toBe(24 * 3600);
    expect(await stripe.checkout.sessions.retrieve(session.id)).toEqual(session);
    const page = await fetch(session.url as string);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("€250.00");
    expect(html).toContain("2 × Course fee");
    expect(html).toContain(`action="/checkout/${session.id}/pay"`);
  });

  it("honours Idempotency-Key: same parameters → the same session; other parameters → idempotency_error", async () => {
    const first = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: "pay-inv-42-1" });
    const again = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: "pay-inv-42-1" });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    const other = stripe.checkout.sessions.create(sessionParams({ client_reference_id: "inv-43" }), { idempotencyKey: "pay-inv-42-1" });
    await expect(other).rejects.toMatchObject({ type: "StripeIdempotencyError", statusCode: 400 });
    // Racing requests with one key make one session.
    const raced = await Promise.all(Array.from({ length: 5 }, () => stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: "pay-inv-42-race" })));
    expect(new Set(raced.map((r) => r.id)).size).toBe(1);
  });

  it("refuses bad parameters in Stripe's error shape, and keeps nothing for their idempotency key", async () => {
    const bad = stripe.checkout.sessions.create(sessionParams({ line_items: [{ price_data: { currency: "eur", unit_amount: 100, product_data: { name: "x" } }, quantity: 0 }] }), { idempotencyKey: "bad-1" });
    await expect(bad).rejects.toMatchObject({ type: "StripeInvalidRequestError", statusCode: 400, param: "line_items[0][quantity]" });
    const soon = Math.floor(Date.now() / 1000) + 60;
    await expect(stripe.checkout.sessions.create(sessionParams({ expires_at: soon }))).rejects.toMatchObject({ param: "expires_at" });
    // The key was not used up by the refused request.
    const good = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: "bad-1" });
    expect(good.status).toBe("open");
    await expect(stripe.checkout.sessions.retrieve("cs_test_nope")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
    await expect(stripe.refunds.retrieve("nope")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
    await expect(stripe.customers.list()).rejects.toMatchObject({ statusCode: 404, type: "StripeInvalidRequestError" });
    await expect(stripe.checkout.sessions.create(sessionParams({ metadata: { note: "a\u0000b" } }))).rejects.toMatchObject({ statusCode: 400 });
    const huge = await fetch(`${emulator.apiUrl}/v1/checkout/sessions`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_x", "content-type": "application/x-www-form-urlencoded" },
      body: `mode=payment&metadata[x]=${"y".repeat(300_000)}`,
    });
    expect(huge.status).toBe(413);
  });

  it("takes http(s) return URLs only, and refuses a total over Stripe's 99,999,999 minor units", async () => {
    for (const url of ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>", "ftp://example.test/x"]) {
      await expect(stripe.checkout.sessions.create(sessionParams({ success_url: url }))).rejects.toMatchObject({ statusCode: 400, code: "url_invalid", param: "success_url" });
      await expect(stripe.checkout.sessions.create(sessionParams({ cancel_url: url }))).rejects.toMatchObject({ statusCode: 400, code: "url_invalid", param: "cancel_url" });
    }
    expect((await stripe.checkout.sessions.create(sessionParams({ success_url: "https://ringlet.example/paid" }))).success_url).toBe("https://ringlet.example/paid");
    const item = (unit_amount: number, quantity: number): Stripe.Checkout.SessionCreateParams.LineItem => ({ price_data: { currency: "eur", unit_amount, product_data: { name: "Fee" } }, quantity });
    // Past 2^53 (15-digit unit amount times a 15-digit quantity) and just past the limit: amount_too_large, like Stripe.
    for (const line_items of [[item(999_999_999_999_999, 999_999_999_999_999)], [item(50_000_000, 1), item(50_000_000, 1)], [item(100_000_000, 1)]]) {
      await expect(stripe.checkout.sessions.create(sessionParams({ line_items }))).rejects.toMatchObject({ statusCode: 400, code: "amount_too_large" });
    }
    expect((await stripe.checkout.sessions.create(sessionParams({ line_items: [item(33_333_333, 3)] }))).amount_total).toBe(99_999_999);
    // The Checkout page escapes with the runtime's one escapeHtml (numeric references, as the mailbox page).
    const named = await stripe.checkout.sessions.create(sessionParams({ line_items: [{ ...item(100, 1), price_data: { currency: "eur", unit_amount: 100, product_data: { name: '<b>"Fee"</b>' } } }] }));
    const html = await (await fetch(named.url as string)).text();
    expect(html).toContain("&#60;b&#62;&#34;Fee&#34;&#60;/b&#62;");
    expect(html).not.toContain("<b>");
  });

  it("answers 401 in Stripe's format for a key that is not sk_test_", async () => {
    const wrong = new Stripe("sk_live_nope", { host: "127.0.0.1", port: emulator.port, protocol: "http", maxNetworkRetries: 0 });
    await expect(wrong.checkout.sessions.create(sessionParams())).rejects.toMatchObject({ type: "StripeAuthenticationError", statusCode: 401 });
    const bare = await fetch(`${emulator.apiUrl}/v1/payouts`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });
});

describe("form parameters", () => {
  it("reads nested keys and lists as the SDK writes them, without touching prototypes", () => {
    const parsed = parseForm("a[b][c]=1&l[1][x]=b&l[0][x]=a&e[]=p&e[]=q&__proto__[polluted]=yes&constructor[prototype][x]=1");
    expect(typeof parsed).toBe("object");
    const form = parsed as Exclude<typeof parsed, string>;
    expect(JSON.parse(JSON.stringify(form))).toMatchObject({ a: { b: { c: "1" } }, e: { 0: "p", 1: "q" } });
    expect(formList(form.l)).toEqual([{ x: "a" }, { x: "b" }].map((o) => Object.assign(Object.create(null) as object, o)));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parseForm("a=1&a[b]=2")).toMatch(/Invalid value/);
    expect(parseForm("a[b][c][d][e][f][g]=1")).toMatch(/nested too deeply/);
    expect(parseForm("a]b=1")).toMatch(/Invalid parameter name/);
  });
});

describe("paying and webhooks", () => {
  it("pays a session: a PaymentIntent with merged metadata, a Charge, and three signed events in order", async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const response = await postAdmin(`/checkout/${session.id}/pay`);
    expect(response.status).toBe(200);
    const paid = (await response.json()) as Stripe.Checkout.Session;
    expect(paid).toMatchObject({ status: "complete", payment_status: "paid", url: null });
    const pi = await stripe.paymentIntents.retrieve(paid.payment_intent as string);
    expect(pi).toMatchObject({ status: "succeeded", amount: 25_000, currency: "eur", metadata: { invoiceId: "inv-42", kind: "intent", enrollmentId: "enr-7" } });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    const expanded = await stripe.paymentIntents.retrieve(pi.id, { expand: ["latest_charge"] });
    expect(expanded.latest_charge).toEqual(charge);
    await expect(stripe.paymentIntents.retrieve(pi.id, { expand: ["metadata.nope"] })).rejects.toMatchObject({ statusCode: 400, param: "expand" });
    expect(charge).toMatchObject({ amount: 25_000, amount_refunded: 0, payment_intent: pi.id, refunded: false });
    const events = await verifiedEvents(3);
    expect(events.map((e) => e.type)).toEqual(["checkout.session.completed", "payment_intent.succeeded", "charge.succeeded"]);
    expect(events[0]).toMatchObject({ object: "event", livemode: false, api_version: expect.any(String), data: { object: { id: session.id, payment_intent: pi.id } } });
    expect(events[0]?.id).toMatch(/^evt_/);
    // Paying twice is refused: the session is complete.
    expect((await postAdmin(`/checkout/${session.id}/pay`)).status).toBe(409);
    expect((await postAdmin("/checkout/cs_test_nope/pay")).status).toBe(404);
    // A malformed escape in the id is an unknown id (404), not a crash.
    expect((await postAdmin("/checkout/%E0%A4%A/pay")).status).toBe(404);
    expect((await postAdmin("/events/%E0%A4%A/resend")).status).toBe(404);
  });

  it("delivers duplicates and in reverse order when asked, and nothing with deliver none", async () => {
    const a = await stripe.checkout.sessions.create(sessionParams());
    expect((await postAdmin(`/checkout/${a.id}/pay`, { duplicates: 1, order: "reversed" })).status).toBe(200);
    const events = await verifiedEvents(6);
    expect(events.map((e) => e.type)).toEqual([
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
    ]);
    expect(events[3]?.id).toBe(events[0]?.id);
    received = [];
    const b = await stripe.checkout.sessions.create(sessionParams());
    expect((await postAdmin(`/checkout/${b.id}/pay`, { deliver: "none" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toHaveLength(0);
    const recorded = (await (await fetch(`${adminUrl}/admin/stripe/events`)).json()) as StoredEvent[];
    expect(recorded.slice(0, 3).map((e) => [e.type, e.deliveries.length])).toEqual([
      ["charge.succeeded", 0],
      ["payment_intent.succeeded", 0],
      ["checkout.session.completed", 0],
    ]);
    expect((await postAdmin(`/checkout/${b.id}/pay`, { duplicates: 99 })).status).toBe(400);
    // Racing copies: each event and its two copies are sent at once (the app's row locks meet here).
    expect(maxInFlight).toBe(1);
    received = [];
    answerDelayMs = 50;
    const c = await stripe.checkout.sessions.create(sessionParams());
    expect((await postAdmin(`/checkout/${c.id}/pay`, { duplicates: 2, parallel: true })).status).toBe(200);
    const raced = await verifiedEvents(9);
    expect(raced.slice(0, 3).map((e) => e.type)).toEqual(Array(3).fill("checkout.session.completed"));
    expect(new Set(raced.map((e) => e.id)).size).toBe(3);
    expect(maxInFlight).toBe(3);
  });

  it("delivers different payments' events concurrently, each payment's own in order", async () => {
    received = [];
    answerDelayMs = 50;
    maxInFlight = 0;
    const sessions = await Promise.all([1, 2, 3].map(() => stripe.checkout.sessions.create(sessionParams())));
    await Promise.all(sessions.map(async (s) => expect((await postAdmin(`/checkout/${s.id}/pay`)).status).toBe(200)));
    const events = await verifiedEvents(9);
    answerDelayMs = 0;
    expect(maxInFlight).toBe(3);
    for (const s of sessions) {
      const paymentIntent = (await stripe.checkout.sessions.retrieve(s.id)).payment_intent as string;
      const mine = events.filter((e) => {
        const o = e.data.object as { id: string; payment_intent?: string };
        return o.id === s.id || o.id === paymentIntent || o.payment_intent === paymentIntent;
      });
      expect(mine.map((e) => e.type)).toEqual(["checkout.session.completed", "payment_intent.succeeded", "charge.succeeded"]);
    }
  });

  it("retries a delivery the app refused, and shows each try's status", async () => {
    refuseNext = 2;
    refuseType = "checkout.session.completed";
    const session = await stripe.checkout.sessions.create(sessionParams());
    await postAdmin(`/checkout/${session.id}/pay`);
    await verifiedEvents(3);
    const deadline = Date.now() + 5000;
    let first: StoredEvent | undefined;
    while (Date.now() < deadline) {
      first = emulator.events().find((e) => e.type === "checkout.session.completed" && e.event.data.object.id === session.id);
      if (first?.pendingDeliveries === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(first?.deliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
  });

  it("resends an event; an old timestamp is a replayed signature that constructEvent refuses", async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    await postAdmin(`/checkout/${session.id}/pay`);
    const [event] = await verifiedEvents(3);
    received = [];
    const fresh = await postAdmin(`/events/${event?.id}/resend`);
    expect(await fresh.json()).toMatchObject({ status: 200, body: "ok" });
    const old = await postAdmin(`/events/${event?.id}/resend`, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(await old.json()).toMatchObject({ status: 400, body: expect.stringContaining("Timestamp outside the tolerance zone") });
    expect(() => stripe.webhooks.constructEvent(received[1]?.body as string, received[1]?.signature as string, emulator.webhookSecret)).toThrow(/tolerance/);
    expect(() => stripe.webhooks.constructEvent(received[0]?.body as string, received[0]?.signature as string, "whsec_other")).toThrow();
    expect((await postAdmin("/events/evt_nope/resend")).status).toBe(404);
  });

  it("expires an open session with checkout.session.expired; an expired one cannot be paid or expired again", async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: "expired", url: null });
    const [event] = await verifiedEvents(1);
    expect(event).toMatchObject({ type: "checkout.session.expired", data: { object: { id: session.id } } });
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
    expect((await postAdmin(`/checkout/${session.id}/pay`)).status).toBe(409);
  });
});

describe("mailbox page", () => {
  it("lists Checkout Sessions (open ones link to pay) and events with the app's answers, escaped", async () => {
    const session = await stripe.checkout.sessions.create(sessionParams({ client_reference_id: "<b>ref</b>" }));
    await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
    await verifiedEvents(1);
    const page = await fetch(`${adminUrl}/admin/mailbox`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<section id="payments">');
    expect(html).toContain(`href="${session.url}"`);
    expect(html).toContain("&#60;b&#62;ref&#60;/b&#62;");
    expect(html).not.toContain("<b>ref</b>");
    expect(html).toMatch(/checkout\.session\.expired<\/td><td>200</);
  });
});

describe("refunds, payouts and balance transactions", () => {
  it("refunds part, then the rest, then refuses more like Stripe, with charge.refunded and refund.created", async () => {
    const { paymentIntent } = await paidSession();
    const part = await stripe.refunds.create({ payment_intent: paymentIntent, amount: 10_000, reason: "requested_by_customer", metadata: { creditNote: "cn-1" } });
    expect(part).toMatchObject({ object: "refund", status: "succeeded", amount: 10_000, currency: "eur", payment_intent: paymentIntent, metadata: { creditNote: "cn-1" } });
    expect(part.id).toMatch(/^re_/);
    expect(await stripe.refunds.retrieve(part.id)).toEqual(part);
    const events = await verifiedEvents(2);
    expect(events.map((e) => e.type)).toEqual(["charge.refunded", "refund.created"]);
    expect(events[0]?.data.object).toMatchObject({ amount_refunded: 10_000, refunded: false });
    await expect(stripe.refunds.create({ payment_intent: paymentIntent, amount: 15_001 })).rejects.toMatchObject({ statusCode: 400, code: "amount_too_large" });
    const rest = await stripe.refunds.create({ payment_intent: paymentIntent });
    expect(rest.amount).toBe(15_000);
    const charge = await stripe.charges.retrieve(rest.charge as string);
    expect(charge).toMatchObject({ amount_refunded: 25_000, refunded: true });
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([rest.id, part.id]);
    await expect(stripe.refunds.create({ payment_intent: paymentIntent, amount: 1 })).rejects.toMatchObject({ statusCode: 400, code: "charge_already_refunded" });
    const listed = await stripe.refunds.list({ payment_intent: paymentIntent, limit: 1 }).autoPagingToArray({ limit: 100 });
    expect(listed.map((r) => r.id)).toEqual([rest.id, part.id]);
  });

  it("pays out the available balance with payout.paid, and lists payouts and balance transactions by payout", async () => {
    const { paymentIntent } = await paidSession();
    await stripe.refunds.create({ payment_intent: paymentIntent, amount: 5_000 });
    await verifiedEvents(2);
    received = [];
    const response = await postAdmin("/payouts", { currency: "eur" });
    expect(response.status).toBe(200);
    const payout = (await response.json()) as Stripe.Payout;
    const [event] = await verifiedEvents(1);
    expect(event).toMatchObject({ type: "payout.paid", data: { object: { id: payout.id, status: "paid" } } });
    const payouts = await stripe.payouts.list({ limit: 100 });
    expect(payouts.object).toBe("list");
    expect(payouts.data[0]?.id).toBe(payout.id);
    const txns = await stripe.balanceTransactions.list({ payout: payout.id, limit: 100, expand: ["data.source"] });
    // Reconciliation reads each charge's PaymentIntent through the expanded source.
    expect(txns.data.find((t) => t.type === "charge" && (t.source as Stripe.Charge).payment_intent === paymentIntent)).toBeDefined();
    const charges = txns.data.filter((t) => t.type === "charge");
    const refunds = txns.data.filter((t) => t.type === "refund");
    expect(txns.data.filter((t) => t.type === "payout").map((t) => t.amount)).toEqual([-payout.amount]);
    // Every charge and refund so far (earlier tests' too) went into this one payout; its amount is their net.
    expect(charges.reduce((s, t) => s + t.net, 0) + refunds.reduce((s, t) => s + t.net, 0)).toBe(payout.amount);
    const last = charges[0] as Stripe.BalanceTransaction;
    expect(last).toMatchObject({ amount: 25_000, fee: 755, net: 24_245, currency: "eur" });
    expect(refunds[0]).toMatchObject({ amount: -5_000, fee: 0, net: -5_000 });
    // Nothing is left: a second payout is refused.
    expect((await postAdmin("/payouts")).status).toBe(409);
    // Two currencies, no currency named: a payout for each, the older balance's answered.
    received = [];
    await paidSession();
    const gbp = await stripe.checkout.sessions.create(sessionParams({ line_items: [{ price_data: { currency: "gbp", unit_amount: 1_000, product_data: { name: "x" } }, quantity: 1 }] }));
    await postAdmin(`/checkout/${gbp.id}/pay`);
    await verifiedEvents(3);
    received = [];
    const both = (await (await postAdmin("/payouts")).json()) as Stripe.Payout;
    expect(both).toMatchObject({ currency: "eur", amount: 24_245 });
    expect((await verifiedEvents(2)).map((e) => (e.data.object as Stripe.Payout).currency)).toEqual(["eur", "gbp"]);
    // created filters and cursors, as the SDK's auto-pagination uses them.
    const now = Math.floor(Date.now() / 1000);
    const all = await stripe.balanceTransactions.list({ created: { gte: now - 60, lte: now + 60 }, limit: 100 });
    const paged = await stripe.balanceTransactions.list({ created: { gte: now - 60, lte: now + 60 }, limit: 2 }).autoPagingToArray({ limit: 1000 });
    expect(paged.map((t) => t.id)).toEqual(all.data.map((t) => t.id));
    expect((await stripe.balanceTransactions.list({ created: { lt: now - 3600 } })).data).toEqual([]);
    const before = await stripe.balanceTransactions.list({ ending_before: all.data[2]?.id as string, limit: 1 });
    expect([before.data.map((t) => t.id), before.has_more]).toEqual([[all.data[1]?.id], true]);
    await expect(stripe.balanceTransactions.list({ starting_after: "txn_nope" })).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
  });
});

describe("runtime wiring", () => {
  it("replaces UseDevelopmentStripe=true with the API URL and UseDevelopmentStripeWebhook=<path> with the secret", async () => {
    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: "postgres://unused",
      STRIPE_API_URL: "UseDevelopmentStripe=true",
      STRIPE_WEBHOOK_SECRET: "UseDevelopmentStripeWebhook=/api/v1/payments/stripe/webhook",
    };
    const services = await startBackingServices(process.cwd(), "unused", env, { httpPort: (hook.address() as AddressInfo).port });
    try {
      expect(env.STRIPE_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(env.STRIPE_WEBHOOK_SECRET).toMatch(/^whsec_[0-9a-f]{48}$/);
      const running = activeStripeEmulator() as StripeEmulator;
      expect(running.apiUrl).toBe(env.STRIPE_API_URL);
      // Its events reach <runtime>/<path>: the test endpoint stands in for the runtime here.
      const client = new Stripe("sk_test_local_development", { host: "127.0.0.1", port: running.port, protocol: "http" });
      const session = await client.checkout.sessions.create(sessionParams());
      expect(running.pay(session.id)).toHaveProperty("ok");
      const deadline = Date.now() + 5000;
      while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Signed with the runtime emulator's secret, which the app receives through STRIPE_WEBHOOK_SECRET.
      expect(() => stripe.webhooks.constructEvent(received[0]?.body as string, received[0]?.signature as string, env.STRIPE_WEBHOOK_SECRET as string)).not.toThrow();
    } finally {
      await services.stop();
    }
    expect(activeStripeEmulator()).toBeUndefined();
    expect(() => developmentStripeWebhookSettings({ X: "UseDevelopmentStripeWebhook=nope" })).toThrow(/webhook path/);
  });
});

describe("runtime process", () => {
  it("hands the app both settings, serves /admin/stripe and delivers events to its own HTTP port", async () => {
    const runtime = await startRuntime({
      appRoot: copyFixture("local-app"),
      env: { STRIPE_API_URL: "UseDevelopmentStripe=true", STRIPE_WEBHOOK_SECRET: "UseDevelopmentStripeWebhook=/api/echo/stripe/hook" },
    });
    try {
      const settings = (await (await fetch(`${runtime.baseUrl}/api/settings?names=STRIPE_API_URL,STRIPE_WEBHOOK_SECRET`)).json()) as Record<string, string>;
      expect(settings.STRIPE_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(settings.STRIPE_WEBHOOK_SECRET).toMatch(/^whsec_/);
      const api = new URL(settings.STRIPE_API_URL as string);
      const client = new Stripe("sk_test_local_development", { host: api.hostname, port: Number(api.port), protocol: "http" });
      const session = await client.checkout.sessions.create(sessionParams());
      const paid = await fetch(`${runtime.baseUrl}/admin/stripe/checkout/${session.id}/pay`, { method: "POST" });
      expect(paid.status).toBe(200);
      const deadline = Date.now() + 10_000;
      let events: StoredEvent[] = [];
      while (Date.now() < deadline) {
        events = (await (await fetch(`${runtime.baseUrl}/admin/stripe/events`)).json()) as StoredEvent[];
        if (events.length === 3 && events.every((e) => e.pendingDeliveries === 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(events.map((e) => [e.type, e.deliveries.map((d) => [d.url, d.status])])).toEqual(
        ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"].map((type) => [type, [[`${runtime.baseUrl}/api/echo/stripe/hook`, 200]]]),
      );
      expect((await fetch(`${runtime.baseUrl}/admin/mailbox`)).status).toBe(200);
    } finally {
      await runtime.stop();
    }
  });
});
