import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendDelivery } from "../../../functions/platform/webhook-sender.js";
import type { DeliveryRow, WebhookRow } from "../../../domain/webhooks/webhooks.js";

let server: Server;
let port = 0;
const seen: { signature: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ signature: String(req.headers["ringlet-signature"]), body });
      if (req.url === "/slow") setTimeout(() => res.writeHead(204).end(), 500);
      else res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  port = typeof address === "object" && address ? address.port : 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const webhook = (url: string) => ({ id: "w", url, secret: "whsec_test" }) as WebhookRow;
const delivery = { id: "d", eventId: "e", eventType: "lesson.completed", payload: { id: "e", type: "lesson.completed" } } as unknown as DeliveryRow;
const now = new Date();

describe("sendDelivery", () => {
  it("posts the signed payload and reads the answer", async () => {
    const outcome = await sendDelivery(webhook(`http://127.0.0.1:${port}/ok`), delivery, { timeoutMs: 2000, allowPrivate: true, now });
    expect(outcome).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(seen.at(-1)?.body).toBe(JSON.stringify(delivery.payload));
    expect(seen.at(-1)?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("reports a non-2xx answer and a timeout as failures", async () => {
    expect(await sendDelivery(webhook(`http://127.0.0.1:${port}/fail`), delivery, { timeoutMs: 2000, allowPrivate: true, now })).toMatchObject({ ok: false, statusCode: 500 });
    expect(await sendDelivery(webhook(`http://127.0.0.1:${port}/slow`), delivery, { timeoutMs: 100, allowPrivate: true, now })).toMatchObject({ ok: false, statusCode: null, error: "no answer within 100 ms" });
  });

  it("refuses private destinations at connect time, by literal address and by name", async () => {
    const before = seen.length;
    const literal = await sendDelivery(webhook(`https://127.0.0.1:${port}/ok`), delivery, { timeoutMs: 2000, allowPrivate: false, now });
    expect(literal).toMatchObject({ ok: false, statusCode: null });
    expect(literal.error).toMatch(/private, loopback or link-local/);
    const named = await sendDelivery(webhook(`https://localhost:${port}/ok`), delivery, { timeoutMs: 2000, allowPrivate: false, now });
    expect(named.error).toMatch(/private, loopback or link-local/);
    expect((await sendDelivery(webhook(`http://example.test/ok`), delivery, { timeoutMs: 2000, allowPrivate: false, now })).error).toMatch(/https/);
    expect(seen.length).toBe(before);
  });
});
