import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { browserPushSubscription, expirePushSubscription, waitForPush, waitForSms } from "../support/notifications.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// SMS and push end to end through the real clients: @azure/communication-sms against the runtime's
// ACS-compatible SMS endpoint, web-push against its push service (which decrypts what it gets, as a browser).

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let publicKey: string;

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(app) });
const emailFlags = { courseUpdates: true, grades: true, reminders: true, announcements: true, discussions: true };

async function publishedCourse(title: string): Promise<string> {
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title } });
  const { id } = (await created.json()) as { id: string };
  await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken });
  return id;
}
const enroll = async (user: TestUser, courseId: string) => expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken })).status).toBe(201);
const putPhone = (user: TestUser, phone: string) => call(app, "PUT", "/v1/me/phone", { token: user.accessToken, body: { phone } });
const verify = (user: TestUser, code: string) => call(app, "POST", "/v1/me/phone/verify", { token: user.accessToken, body: { code } });
const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1] ?? "";
const otherThan = (code: string) => (code === "111111" ? "222222" : "111111");

/** A browser subscribed with the app's key, registered for `user`. */
async function registeredBrowser(user: TestUser) {
  const subscription = await browserPushSubscription(app, { applicationServerKey: publicKey });
  const res = await call(app, "POST", "/v1/me/push-subscriptions", { token: user.accessToken, body: subscription });
  expect(res.status).toBe(201);
  return { subscription, id: ((await res.json()) as { id: string }).id, endpoint: subscription.endpoint };
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      AUTH_UNVERIFIED_ACCESS: "full",
      PHONE_CODE_MAX_ATTEMPTS: "3",
      PHONE_CODE_MAX_SENDS: "3",
    },
  });
  admin = await signUp(app, db, { admin: true, label: "admin" });
  const key = await call(app, "GET", "/v1/push/public-key");
  expect(key.status).toBe(200);
  publicKey = ((await key.json()) as { publicKey: string }).publicKey;
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("SMS", () => {
  it("verifies a number with the code texted to it, then sends the categories chosen by SMS", async () => {
    const texter = await signUp(app, db, { label: "texter" });
    const phone = "+34612345678";
    const put = await putPhone(texter, phone);
    expect(put.status).toBe(200);
    const saved = (await put.json()) as { phone: string; verified: boolean };
    expect(saved.verified).toBe(false);
    expect(saved.phone.endsWith("678") && !saved.phone.includes("34612")).toBe(true);

    const sms = await waitForSms(app, phone);
    const code = codeIn(sms.message);
    expect(code).toMatch(/^\d{6}$/);
    const wrong = await verify(texter, otherThan(code));
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ code: "PHONE_CODE_INVALID", triesLeft: 2 });
    const right = await verify(texter, code);
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({ verified: true, codeExpiresAt: null });
    expect((await verify(texter, code)).status).toBe(409);
    // The code's message is gone once sent; the code itself is stored only hashed, and now not at all.
    const sent = await until("the code's delivery to be recorded sent", async () => {
      const rows = await db.sql<{ status: string; payload: unknown }[]>`select status, payload from channel_deliveries where user_id = ${texter.id} and channel = 'sms' and status = 'sent'`;
      return rows.length > 0 ? rows : undefined;
    });
    expect(sent).toEqual([{ status: "sent", payload: null }]);
    expect(await db.sql`select code_hash from phone_numbers where user_id = ${texter.id}`).toEqual([{ code_hash: null }]);
    expect((await db.sql`select action from audit_log where target_id = ${texter.id} and action like 'user.phone-%' order by occurred_at`).map((r) => r.action)).toEqual([
      "user.phone-changed",
      "user.phone-verified",
    ]);

    const prefs = await call(app, "PUT", "/v1/me/notification-preferences", { token: texter.accessToken, body: { ...emailFlags, sms: ["courseUpdates"] } });
    expect(prefs.status).toBe(200);
    expect(await prefs.json()).toMatchObject({ sms: ["courseUpdates"] });
    const courseId = await publishedCourse("Texting 101");
    await enroll(texter, courseId);
    const enrolled = await waitForSms(app, phone, (m) => m.message.includes("Texting 101"));
    expect(enrolled.from).toMatch(/^\+/);
    expect(await jsonOf(await call(app, "GET", "/v1/me/phone", { token: texter.accessToken }))).toMatchObject({ verified: true });
  });

  it("kills a code after the last wrong try and limits the codes sent per hour", async () => {
    const guesser = await signUp(app, db, { label: "guesser" });
    expect((await putPhone(guesser, "+34612345001")).status).toBe(200);
    const code = codeIn((await waitForSms(app, "+34612345001")).message);
    for (const left of [2, 1, 0]) expect(await jsonOf(await verify(guesser, otherThan(code)))).toMatchObject({ code: "PHONE_CODE_INVALID", triesLeft: left });
    const late = await verify(guesser, code);
    expect(late.status).toBe(429);
    expect(await late.json()).toMatchObject({ code: "PHONE_CODE_ATTEMPTS_EXCEEDED" });
    expect(await jsonOf(await call(app, "GET", "/v1/me/phone", { token: guesser.accessToken }))).toMatchObject({ verified: false });

    expect((await putPhone(guesser, "+34612345002")).status).toBe(200);
    expect((await putPhone(guesser, "+34612345003")).status).toBe(200);
    const throttled = await putPhone(guesser, "+34612345004");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await throttled.json()).toMatchObject({ code: "PHONE_CODE_THROTTLED" });
    // The refused change changed nothing.
    expect(await db.sql`select e164 from phone_numbers where user_id = ${guesser.id}`).toEqual([{ e164: "+34612345003" }]);

    expect((await call(app, "DELETE", "/v1/me/phone", { token: guesser.accessToken })).status).toBe(204);
    expect((await call(app, "GET", "/v1/me/phone", { token: guesser.accessToken })).status).toBe(404);
  });
});

describe("push", () => {
  it("delivers a notification encrypted to the browser, and drops the subscription once the service says it is gone", async () => {
    const pushy = await signUp(app, db, { label: "pushy" });
    const browser = await registeredBrowser(pushy);
    const listed = await jsonOf(await call(app, "GET", "/v1/me/push-subscriptions", { token: pushy.accessToken }));
    expect(listed).toEqual({ items: [expect.objectContaining({ id: browser.id, origin: new URL(browser.endpoint).origin })] });
    // The same browser registering again is the same subscription.
    expect((await call(app, "POST", "/v1/me/push-subscriptions", { token: pushy.accessToken, body: browser.subscription })).status).toBe(200);

    const first = await publishedCourse("Pushing 101");
    await enroll(pushy, first);
    const push = await waitForPush(app, browser.endpoint, (m) => m.payload?.includes("Pushing 101") ?? false);
    const payload = JSON.parse(push.payload ?? "{}") as { title: string; body: string; url: string | null; tag: string; urgent: boolean };
    expect(payload).toMatchObject({ urgent: false });
    expect(`${payload.title} ${payload.body}`).toContain("Pushing 101");
    expect(payload.tag).toMatch(/^[0-9a-f-]{36}$/);
    expect(push.urgency).toBe("normal");

    await expirePushSubscription(app, browser.endpoint);
    const second = await publishedCourse("Pushing 102");
    await enroll(pushy, second);
    await until("the push to the expired subscription to be dropped", async () => {
      const rows = await db.sql<{ status: string }[]>`select status from channel_deliveries where target = ${browser.id} and status = 'dropped'`;
      return rows.length > 0 ? rows : undefined;
    });
    expect(await db.sql`select 1 from push_subscriptions where id = ${browser.id}`).toEqual([]);
  });

  it("holds non-urgent pushes in quiet hours until they end, and sends urgent ones at once", async () => {
    const night = await signUp(app, db, { label: "night" });
    const browser = await registeredBrowser(night);
    const now = Date.now();
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const quietHours = { start: hhmm(now - 3_600_000), end: hhmm(now + 7_200_000), timeZone: "Etc/UTC" };
    const saved = await call(app, "PUT", "/v1/me/notification-preferences", { token: night.accessToken, body: { ...emailFlags, quietHours } });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ quietHours });

    const courseId = await publishedCourse("Night school");
    await enroll(night, courseId);
    const held = await until("the enrollment push to be recorded", async () => {
      const rows = await db.sql<{ status: string; next_attempt_at: Date }[]>`select status, next_attempt_at from channel_deliveries where target = ${browser.id}`;
      return rows.length > 0 ? rows : undefined;
    });
    expect(held).toHaveLength(1);
    expect(held[0]?.status).toBe("pending");
    const due = new Date(held[0]!.next_attempt_at).getTime();
    expect(due).toBeGreaterThan(now + 7_200_000 - 61_000);
    expect(due).toBeLessThanOrEqual(now + 7_200_000);

    const posted = await call(app, "POST", `/v1/courses/${courseId}/announcements`, { token: admin.accessToken, body: { title: "Storm: campus closed", body: "Stay home.", urgent: true } });
    expect(posted.status).toBe(201);
    const urgent = await waitForPush(app, browser.endpoint, (m) => m.payload?.includes("Storm") ?? false);
    expect(urgent.urgency).toBe("high");
    // The push service has the message before the sender records it sent: wait for the row, then the held one is
    // still the only pending delivery.
    const statuses = async () => (await db.sql<{ status: string }[]>`select status from channel_deliveries where target = ${browser.id} order by status`).map((r) => r.status);
    await expect.poll(statuses).toEqual(["pending", "sent"]);
  });
});

describe("hostile input", () => {
  it("refuses push endpoints that are not public https and numbers that are not E.164, storing nothing", async () => {
    const mallory = await signUp(app, db, { label: "mallory" });
    const browser = await browserPushSubscription(app, { applicationServerKey: publicKey });
    for (const endpoint of ["http://push.example.com/abc", "https://10.0.0.1/push/abc", "https://localhost/push/abc", "https://127.0.0.1:8443/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://[::ffff:a9fe:a9fe]/x", "https://[64:ff9b::a9fe:a9fe]/x", "https://[2002:7f00:1::]/x", "https://[::127.0.0.1]/x", "not a url"]) {
      const res = await call(app, "POST", "/v1/me/push-subscriptions", { token: mallory.accessToken, body: { ...browser, endpoint } });
      expect(res.status, endpoint).toBe(422);
      expect(await res.json()).toMatchObject({ code: "PUSH_ENDPOINT_NOT_ALLOWED" });
    }
    const badKeys = await call(app, "POST", "/v1/me/push-subscriptions", { token: mallory.accessToken, body: { ...browser, keys: { p256dh: "AAAA", auth: browser.keys.auth } } });
    expect(badKeys.status).toBe(400);
    const huge = await call(app, "POST", "/v1/me/push-subscriptions", { token: mallory.accessToken, body: { ...browser, endpoint: `https://push.example.com/${"a".repeat(3000)}` } });
    expect(huge.status).toBe(400);

    for (const phone of ["+12", "0612345678", "+1 (555) 010", "+10000000000"]) {
      const res = await putPhone(mallory, phone);
      expect(res.status, phone).toBe(422);
      expect(await res.json()).toMatchObject({ code: "PHONE_NUMBER_INVALID" });
    }
    // NUL characters are refused at the edge for every route.
    expect((await putPhone(mallory, "+34612345678\u0000")).status).toBe(400);
    expect((await verify(mallory, "123456")).status).toBe(404);
    expect(await db.sql`select 1 from push_subscriptions where user_id = ${mallory.id} union all select 1 from phone_numbers where user_id = ${mallory.id}`).toEqual([]);
    expect((await call(app, "DELETE", `/v1/me/push-subscriptions/${crypto.randomUUID()}`, { token: mallory.accessToken })).status).toBe(404);
  });
});
