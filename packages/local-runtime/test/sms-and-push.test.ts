// The development SMS endpoint and push service, driven by the real client libraries the app uses
// (@azure/communication-sms, web-push), and their admin routes and mailbox page. Only these services start here.
import { createHash, createHmac, randomUUID } from "node:crypto";
import http, { type Server } from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { SmsClient } from "@azure/communication-sms";
import webpush, { type PushSubscription, type RequestOptions } from "web-push";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSmsEndpoint, developmentSmsSettings, type SmsEndpoint } from "../src/services/sms-endpoint.js";
import { startPushService, developmentPushSettings, type BrowserPushSubscription, type PushService, type StoredPush } from "../src/services/push-service.js";
import { escapeHtml } from "../src/html.js";
import { handleMailboxRequest, renderMailboxPage } from "../src/mailbox-page.js";

/**
 * web-push always calls https.request; the development push service speaks plain HTTP on loopback. An https.Agent
 * whose connections are plain TCP sockets lets the real library send there (what an app does for its development
 * origin only).
 */
class PlainHttpAgent extends https.Agent {
  override createConnection(options: net.NetConnectOpts): net.Socket {
    return net.createConnection(options);
  }
}
const plainAgent = new PlainHttpAgent();
const vapid = webpush.generateVAPIDKeys();
const sendOptions = (extra: RequestOptions = {}): RequestOptions => ({
  vapidDetails: { subject: "mailto:dev@example.test", publicKey: vapid.publicKey, privateKey: vapid.privateKey },
  agent: plainAgent,
  ...extra,
});

/** The endpoint is plain HTTP on loopback: the SDK's pipeline needs to be told that is fine (the app does so too). */
const insecure = { allowInsecureConnection: true };

let sms: SmsEndpoint;
let push: PushService;
let admin: Server;
let adminUrl: string;

beforeAll(async () => {
  [sms, push] = await Promise.all([startSmsEndpoint(), startPushService()]);
  // The runtime's admin routes, without the rest of the runtime.
  admin = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    void handleMailboxRequest({ mail: undefined, sms, push }, pathname, req.method ?? "GET", req, res).then((handled) => {
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
  plainAgent.destroy();
  await Promise.all([sms?.stop(), push?.stop(), new Promise((resolve) => admin?.close(resolve))]);
});

beforeEach(() => {
  sms.clear();
  push.clear();
});

describe("development SMS endpoint", () => {
  it("hands out an ACS connection string for settings that are exactly UseDevelopmentSms=true", () => {
    expect(sms.connectionString).toBe(`endpoint=http://127.0.0.1:${sms.port}/;accesskey=${sms.accessKey}`);
    expect(Buffer.from(sms.accessKey, "base64")).toHaveLength(32);
    expect(developmentSmsSettings({ SmsAcs: " UseDevelopmentSms=true ", Other: "UseDevelopmentSms=false", X: "endpoint=https://x/" })).toEqual(["SmsAcs"]);
  });

  it("accepts a message sent by the real SmsClient, per recipient, and keeps it newest first", async () => {
    const client = new SmsClient(sms.connectionString, insecure);
    const results = await client.send(
      { from: "+18005550100", to: ["+14255550123", "0123", "+34600111222"], message: "Your code is 123456" },
      { enableDeliveryReport: true, tag: "verification" },
    );
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ to: "+14255550123", httpStatusCode: 202, successful: true, repeatabilityResult: "accepted" });
    expect(results[0]?.messageId).toMatch(/^Outgoing_/);
    // A number that is not E.164 fails on its own, as ACS answers it; the others are sent.
    expect(results[1]).toMatchObject({ to: "0123", httpStatusCode: 400, successful: false, errorMessage: "Invalid To phone number format." });
    expect(results[2]).toMatchObject({ to: "+34600111222", httpStatusCode: 202, successful: true });

    const stored = sms.messages();
    expect(stored.map((m) => m.to).sort()).toEqual(["+14255550123", "+34600111222"]);
    expect(stored[0]).toMatchObject({ from: "+18005550100", message: "Your code is 123456", enableDeliveryReport: true, tag: "verification" });
    expect(stored.map((m) => m.id)).toContain(results[0]?.messageId);

    const listed = await fetch(`${adminUrl}/admin/mailbox/sms`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual(stored);
    expect((await fetch(`${adminUrl}/admin/mailbox/sms`, { method: "DELETE" })).status).toBe(204);
    expect(sms.messages()).toEqual([]);
  });

  it("refuses requests signed with another key, with ACS's error shape", async () => {
    const other = Buffer.alloc(32, 7).toString("base64");
    const client = new SmsClient(`endpoint=${sms.endpoint};accesskey=${other}`, insecure);
    await expect(client.send({ from: "+18005550100", to: ["+14255550123"], message: "hi" })).rejects.toMatchObject({ statusCode: 401 });
    const unsigned = await fetch(`${sms.endpoint}sms?api-version=2021-03-07`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: { code: "Denied", message: "Denied by the resource provider." } });
    expect(sms.messages()).toEqual([]);
  });

  it("does not send twice for a repeated repeatabilityRequestId (a retried request)", async () => {
    // The SDK makes a fresh id per send; a retry of the same request repeats it. Signed here as the SDK signs.
    const body = JSON.stringify({
      from: "Ringlet",
      smsRecipients: [{ to: "+14255550123", repeatabilityRequestId: randomUUID(), repeatabilityFirstSent: new Date().toUTCString() }],
      message: "once",
      smsSendOptions: { enableDeliveryReport: false },
    });
    const first = await signedSend(body);
    const again = await signedSend(body);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    const [a] = ((await first.json()) as { value: { messageId: string; repeatabilityResult: string }[] }).value;
    const [b] = ((await again.json()) as { value: { messageId: string; repeatabilityResult: string }[] }).value;
    expect(a?.repeatabilityResult).toBe("accepted");
    expect(b).toMatchObject({ messageId: a?.messageId, repeatabilityResult: "rejected" });
    expect(sms.messages()).toHaveLength(1);
  });

  it("refuses a tampered body, a stale date and a message over 2048 characters", async () => {
    const body = JSON.stringify({ from: "+18005550100", smsRecipients: [{ to: "+14255550123" }], message: "hi" });
    expect((await signedSend(body, { body: body.replace("hi", "ho") })).status).toBe(401);
    expect((await signedSend(body, { date: new Date(Date.now() - 20 * 60_000) })).status).toBe(401);
    const long = await signedSend(JSON.stringify({ from: "+18005550100", smsRecipients: [{ to: "+14255550123" }], message: "x".repeat(2049) }));
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: { code: "BadRequest" } });
    expect(sms.messages()).toEqual([]);
  });
});

/** A request signed the way @azure/communication-common's access-key policy signs (optionally tampered with). */
function signedSend(body: string, tamper: { body?: string; date?: Date } = {}): Promise<Response> {
  const url = new URL(`${sms.endpoint}sms?api-version=2021-03-07`);
  const date = (tamper.date ?? new Date()).toUTCString();
  const contentHash = createHash("sha256").update(body).digest("base64");
  const signature = createHmac("sha256", Buffer.from(sms.accessKey, "base64"))
    .update(`POST\n${url.pathname}${url.search}\n${date};${url.host};${contentHash}`)
    .digest("base64");
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-ms-date": date,
      "x-ms-content-sha256": contentHash,
      authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
    },
    body: tamper.body ?? body,
  });
}

/** Sends web-push's request by hand, with some part of it changed. */
function rawPush(
  details: ReturnType<typeof webpush.generateRequestDetails>,
  change: { headers?: Record<string, string>; drop?: string; body?: Buffer } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...details.headers, ...change.headers })) {
    // fetch sets Content-Length itself.
    if (name !== change.drop && name.toLowerCase() !== "content-length") headers[name] = String(value);
  }
  return fetch(details.endpoint, { method: details.method, headers, body: change.body ?? details.body ?? null });
}

describe("development push service", () => {
  async function subscribe(body?: unknown): Promise<BrowserPushSubscription> {
    const res = await fetch(`${adminUrl}/admin/push/subscriptions`, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(res.status).toBe(201);
    return (await res.json()) as BrowserPushSubscription;
  }

  it("hands out its origin for settings that are exactly UseDevelopmentPush=true", () => {
    expect(push.origin).toBe(`http://127.0.0.1:${push.port}`);
    expect(developmentPushSettings({ WEB_PUSH_DEVELOPMENT_ORIGIN: "UseDevelopmentPush=true", B: "" })).toEqual(["WEB_PUSH_DEVELOPMENT_ORIGIN"]);
  });

  it("decrypts what the real web-push library sends to a subscription made by the admin route", async () => {
    const subscription = await subscribe();
    expect(subscription.endpoint).toMatch(new RegExp(`^${push.origin}/push/[A-Za-z0-9_-]+$`));
    expect(Buffer.from(subscription.keys.p256dh, "base64url")).toHaveLength(65);
    expect(Buffer.from(subscription.keys.auth, "base64url")).toHaveLength(16);

    const payload = JSON.stringify({ title: "Nueva tarea ✓", body: "<b>Due</b> tomorrow", url: "/courses/1" });
    const sent = await webpush.sendNotification(subscription as PushSubscription, payload, sendOptions({ TTL: 3600, urgency: "high", topic: "assignments" }));
    expect(sent.statusCode).toBe(201);
    expect(sent.headers.location).toMatch(new RegExp(`^${push.origin}/message/`));

    const listed = await fetch(`${adminUrl}/admin/mailbox/push`);
    expect(listed.status).toBe(200);
    const messages = (await listed.json()) as StoredPush[];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      endpoint: subscription.endpoint,
      payload,
      ttl: 3600,
      urgency: "high",
      topic: "assignments",
      vapidSubject: "mailto:dev@example.test",
    } satisfies Partial<StoredPush>);
    // A push without payload (a "tickle") is kept too.
    await webpush.sendNotification(subscription as PushSubscription, null, sendOptions());
    expect(push.messages()[0]).toMatchObject({ payload: null, urgency: "normal" });
  });

  it("refuses pushes without valid VAPID credentials and keeps nothing", async () => {
    const subscription = (await subscribe()) as PushSubscription;
    const status = (p: Promise<unknown>) => p.then(() => 201, (e: { statusCode?: number }) => e.statusCode);
    // No VAPID at all.
    expect(await status(webpush.sendNotification(subscription, "x", { agent: plainAgent }))).toBe(401);
    // A token signed by another key than the k it names.
    const other = webpush.generateVAPIDKeys();
    const details = webpush.generateRequestDetails(subscription, "x", sendOptions());
    const forged = String(details.headers.Authorization).replace(/k=[^,\s]+/, `k=${other.publicKey}`);
    expect((await rawPush(details, { headers: { Authorization: forged } })).status).toBe(401);
    // A token for another audience, or expired.
    const foreign = webpush.getVapidHeaders("https://push.example.test", "mailto:dev@example.test", vapid.publicKey, vapid.privateKey, "aes128gcm");
    expect((await rawPush(details, { headers: { Authorization: foreign.Authorization } })).status).toBe(403);
    const stale = webpush.getVapidHeaders(push.origin, "mailto:dev@example.test", vapid.publicKey, vapid.privateKey, "aes128gcm", Math.floor(Date.now() / 1000) - 60);
    expect((await rawPush(details, { headers: { Authorization: stale.Authorization } })).status).toBe(403);
    // A subscription bound to an applicationServerKey refuses other senders' keys.
    const bound = (await subscribe({ applicationServerKey: other.publicKey })) as PushSubscription;
    expect(await status(webpush.sendNotification(bound, "x", sendOptions()))).toBe(403);
    // No TTL header; payload over 4096 bytes.
    // The same token with its parameters quoted is fine (auth-params may be quoted strings).
    const quoted = String(details.headers.Authorization).replace(/t=([^,\s]+), k=(\S+)/, 't="$1", k="$2"');
    expect((await rawPush(details, { headers: { Authorization: quoted } })).status).toBe(201);
    push.clear();
    expect((await rawPush(details, { drop: "TTL" })).status).toBe(400);
    expect((await rawPush(details, { headers: { "Content-Encoding": "aesgcm" } })).status).toBe(415);
    expect((await rawPush(details, { body: Buffer.alloc(details.body?.length ?? 0, 1) })).status).toBe(400);
    const big = webpush.generateRequestDetails(subscription, "x".repeat(3900), sendOptions());
    expect((await rawPush(big, { body: Buffer.concat([big.body ?? Buffer.alloc(0), Buffer.alloc(300)]) })).status).toBe(413);
    expect(push.messages()).toEqual([]);
  });

  it("refuses an admin subscription request whose applicationServerKey is not a P-256 key", async () => {
    for (const body of ['{"applicationServerKey":"short"}', '{"applicationServerKey":5}', "not json"]) {
      expect((await fetch(`${adminUrl}/admin/push/subscriptions`, { method: "POST", body })).status, body).toBe(400);
    }
    expect((await fetch(`${adminUrl}/admin/push/subscriptions`, { method: "GET" })).status).toBe(405);
  });

  it("answers 404 for unknown subscriptions and 410 once a subscription expired", async () => {
    const subscription = (await subscribe()) as PushSubscription;
    const unknown = { ...subscription, endpoint: `${push.origin}/push/nope` };
    await expect(webpush.sendNotification(unknown, "x", sendOptions())).rejects.toMatchObject({ statusCode: 404 });
    const id = subscription.endpoint.split("/").pop() ?? "";
    expect((await fetch(`${adminUrl}/admin/push/subscriptions/${id}/expire`, { method: "POST" })).status).toBe(204);
    expect((await fetch(`${adminUrl}/admin/push/subscriptions/unknown/expire`, { method: "POST" })).status).toBe(404);
    await expect(webpush.sendNotification(subscription, "x", sendOptions())).rejects.toMatchObject({ statusCode: 410 });
    expect(push.messages()).toEqual([]);
  });
});

describe("mailbox page with text messages and push notifications", () => {
  it("shows both sections, every value escaped", async () => {
    await new SmsClient(sms.connectionString, insecure).send({ from: "+18005550100", to: ["+14255550123"], message: '<script>alert("sms")</script>' });
    const subscription = (await (await fetch(`${adminUrl}/admin/push/subscriptions`, { method: "POST" })).json()) as PushSubscription;
    await webpush.sendNotification(subscription, '{"title":"<img src=x onerror=alert(1)>"}', sendOptions());
    const res = await fetch(`${adminUrl}/admin/mailbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toContain("<h2>Text messages</h2>");
    expect(html).toContain("<h2>Push notifications</h2>");
    expect(html).toContain(escapeHtml('<script>alert("sms")</script>'));
    expect(html).toContain(escapeHtml('{"title":"<img src=x onerror=alert(1)>"}'));
    expect(html).not.toContain("<img src=x");
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain("No development mail sink runs");
  });

  it("renders without the sections when the services do not run, and the routes answer 404 then", async () => {
    const page = renderMailboxPage([], { smtpUrl: "smtp://127.0.0.1:1" });
    expect(page).not.toContain("Text messages");
    expect(page).not.toContain("Push notifications");
    const bare = http.createServer((req, res) => {
      void handleMailboxRequest({ mail: undefined }, new URL(req.url ?? "/", "http://x").pathname, req.method ?? "GET", req, res);
    });
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    try {
      for (const [method, path] of [
        ["GET", "/admin/mailbox"],
        ["GET", "/admin/mailbox/sms"],
        ["GET", "/admin/mailbox/push"],
        ["POST", "/admin/push/subscriptions"],
        ["POST", "/admin/push/subscriptions/x/expire"],
      ] as const) {
        expect((await fetch(`${base}${path}`, { method })).status, `${method} ${path}`).toBe(404);
      }
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
