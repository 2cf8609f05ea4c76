import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderRefused, ProviderUnavailable } from "../../../domain/finance/payment-provider.js";
import { createStripeClient, stripeProvider } from "../../../functions/platform/stripe-provider.js";
import { testSettings } from "../../support/settings.js";

// The adapter's failure mapping through the real SDK, against a local server that answers as Stripe does when
// it fails: an outage is ProviderUnavailable (the routes' 503 with Retry-After), a refusal ProviderRefused (422).

let server: Server;
let port: number;
let answer: { status: number; body: unknown } = { status: 500, body: {} };

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const provider = (url: string) => stripeProvider(createStripeClient(testSettings({ STRIPE_API_URL: url, STRIPE_SECRET_KEY: "sk_test_adapter" })));

describe("the Stripe adapter", () => {
  it("reports an unreachable provider as unavailable", async () => {
    await expect(provider("http://127.0.0.1:1").retrievePayment("pi_x")).rejects.toBeInstanceOf(ProviderUnavailable);
  });

  it("reports Stripe's server errors as unavailable and its refusals as refused", async () => {
    answer = { status: 500, body: { error: { type: "api_error", message: "Something went wrong" } } };
    await expect(provider(`http://127.0.0.1:${port}`).listRefunds("pi_x")).rejects.toBeInstanceOf(ProviderUnavailable);
    answer = { status: 400, body: { error: { type: "invalid_request_error", code: "charge_already_refunded", message: "Charge has already been refunded." } } };
    const refused = provider(`http://127.0.0.1:${port}`).refund({ paymentId: "pi_x", amountMinor: 100, idempotencyKey: "refund:x", metadata: {} });
    await expect(refused).rejects.toBeInstanceOf(ProviderRefused);
    await expect(refused).rejects.toMatchObject({ providerCode: "charge_already_refunded" });
  });

  it("reads a missing payment as none", async () => {
    answer = { status: 404, body: { error: { type: "invalid_request_error", code: "resource_missing", message: "No such payment_intent" } } };
    expect(await provider(`http://127.0.0.1:${port}`).retrievePayment("pi_missing")).toBeNull();
  });
});
