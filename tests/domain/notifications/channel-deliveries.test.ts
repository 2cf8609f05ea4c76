import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChannelSendResult, type PushSender, recordSms, sendDueChannelMessages, type SmsSender } from "../../../domain/notifications/channel-deliveries.js";
import type { SendPolicy } from "../../../domain/notifications/delivery-queue.js";
import { composeEmail } from "../../../domain/notifications/compose-email.js";
import { recordDirectEmails } from "../../../domain/notifications/direct-emails.js";
import { recordNotifications } from "../../../domain/notifications/notify.js";
import { type DomainContext, systemActor } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const policy: SendPolicy = { maxAttempts: 3, baseDelaySeconds: 30, maxDelaySeconds: 3600, leaseSeconds: 60, concurrency: 2 };
const ctx = (now: Date): DomainContext => ({ db: db.db, now: () => now, newId: randomUUID, actor: systemActor });

async function user(phone: string | null): Promise<string> {
  const id = randomUUID();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'U')`;
  if (phone) await db.sql`insert into phone_numbers (user_id, e164, verified_at) values (${id}, ${phone}, now())`;
  return id;
}

function senders(answer: { sms?: ChannelSendResult; push?: ChannelSendResult } = {}) {
  const texts: { to: string; text: string }[] = [];
  const pushes: string[] = [];
  const sms: SmsSender = {
    async send(to, text) {
      texts.push({ to, text });
      return answer.sms ?? { ok: true, messageId: "m-1" };
    },
  };
  const push: PushSender = {
    async send(target) {
      pushes.push(target.endpoint);
      return answer.push ?? { ok: true, messageId: null };
    },
  };
  return { sms, push, texts, pushes };
}

const row = async (id: string) => (await db.sql<{ status: string; payload: unknown; attempts: number; next_attempt_at: string | null; last_error: string | null }[]>`
  select status, payload, attempts, next_attempt_at, last_error from channel_deliveries where id = ${id}`)[0];

describe("channel deliveries", () => {
  it("sends an SMS once and drops its text (a code) once sent", async () => {
    const now = new Date();
    const userId = await user("+34612000001");
    const id = await recordSms(ctx(now), { userId, to: "+34612000001", text: "code 123456" });
    const s = senders();
    const outcomes = await sendDueChannelMessages({ db: db.db, now: () => now, ...s }, policy, { ids: [id] });
    expect(outcomes.map((o) => o.status)).toEqual(["sent"]);
    expect(s.texts).toEqual([{ to: "+34612000001", text: "code 123456" }]);
    expect(await row(id)).toMatchObject({ status: "sent", payload: null, attempts: 1 });
    expect(await sendDueChannelMessages({ db: db.db, now: () => now, ...s }, policy, { ids: [id] })).toEqual([]);
  });

  it("drops an SMS to a number that is no longer the user's without sending it", async () => {
    const now = new Date();
    const userId = await user("+34612000002");
    const id = await recordSms(ctx(now), { userId, to: "+34612000002", text: "hello" });
    await db.sql`update phone_numbers set e164 = '+34612000003' where user_id = ${userId}`;
    const s = senders();
    await sendDueChannelMessages({ db: db.db, now: () => now, ...s }, policy, { ids: [id] });
    expect(s.texts).toEqual([]);
    expect(await row(id)).toMatchObject({ status: "dropped", payload: null });
  });

  it("drops a push the service says is gone and deletes the subscription; waits at least Retry-After on 429", async () => {
    const now = new Date();
    const userId = await user(null);
    const subscriptionId = randomUUID();
    await db.sql`insert into push_subscriptions (id, user_id, endpoint, p256dh, auth) values (${subscriptionId}, ${userId}, ${`https://push.example/${subscriptionId}`}, 'k', 'a')`;
    const insertPush = async () => {
      const id = randomUUID();
      await db.sql`insert into channel_deliveries (id, event_id, user_id, channel, target, payload, next_attempt_at)
        values (${id}, ${randomUUID()}, ${userId}, 'push', ${subscriptionId}, ${JSON.stringify({ title: "t", body: "b", url: null, tag: id, urgent: false })}::jsonb, ${now.toISOString()}::timestamptz)`;
      return id;
    };
    const throttled = await insertPush();
    await sendDueChannelMessages({ db: db.db, now: () => now, ...senders({ push: { ok: false, error: "answered 429", retryAfterSeconds: 600 } }) }, policy, { ids: [throttled] });
    const waiting = await row(throttled);
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, last_error: "answered 429" });
    expect(new Date(waiting!.next_attempt_at!).getTime()).toBeGreaterThanOrEqual(now.getTime() + 600_000);

    const gone = await insertPush();
    await sendDueChannelMessages({ db: db.db, now: () => now, ...senders({ push: { ok: false, error: "answered 410", gone: true } }) }, policy, { ids: [gone] });
    expect(await row(gone)).toMatchObject({ status: "dropped", payload: null });
    expect(await db.sql`select 1 from push_subscriptions where id = ${subscriptionId}`).toEqual([]);
    // Later, the throttled one finds its subscription gone: dropped without a send.
    const later = new Date(now.getTime() + 3_600_000);
    const s = senders();
    await sendDueChannelMessages({ db: db.db, now: () => later, ...s }, policy, { ids: [throttled] });
    expect(s.pushes).toEqual([]);
    expect(await row(throttled)).toMatchObject({ status: "dropped" });
  });

  it("never sends a held push to a browser that another user has registered since, and leaves that user's subscription", async () => {
    const now = new Date();
    const first = await user(null);
    const second = await user(null);
    const subscriptionId = randomUUID();
    await db.sql`insert into push_subscriptions (id, user_id, endpoint, p256dh, auth) values (${subscriptionId}, ${first}, ${`https://push.example/${subscriptionId}`}, 'k', 'a')`;
    const held = randomUUID();
    await db.sql`insert into channel_deliveries (id, event_id, user_id, channel, target, payload, next_attempt_at)
      values (${held}, ${randomUUID()}, ${first}, 'push', ${subscriptionId}, ${JSON.stringify({ title: "private", body: "b", url: null, tag: held, urgent: false })}::jsonb, ${now.toISOString()}::timestamptz)`;
    // The browser is registered again by the second user: same row, new keys (see registerPushSubscription).
    await db.sql`update push_subscriptions set user_id = ${second}, p256dh = 'k2', auth = 'a2' where id = ${subscriptionId}`;
    const s = senders();
    await sendDueChannelMessages({ db: db.db, now: () => now, ...s }, policy, { ids: [held] });
    expect(s.pushes).toEqual([]);
    expect(await row(held)).toMatchObject({ status: "dropped", payload: null });
    expect(await db.sql`select user_id from push_subscriptions where id = ${subscriptionId}`).toEqual([{ user_id: second }]);
  });

  it("texts each of two users who share a verified number, once each", async () => {
    const now = new Date();
    const shared = "+34612000009";
    const [a, b] = [await user(shared), await user(shared)];
    await db.sql`insert into notification_preferences (user_id, sms_categories) values (${a}, ${["grades"]}), (${b}, ${["grades"]})`;
    const eventId = randomUUID();
    const input = (userId: string) => ({ userId, eventId, template: "grade-released", category: "grades" as const, title: "Graded", body: "b" });
    const first = await recordNotifications(ctx(now), [input(a), input(b)]);
    expect(first.channelIds).toHaveLength(2);
    expect((await recordNotifications(ctx(now), [input(a), input(b)])).channelIds).toEqual([]);
    expect(await db.sql`select user_id from channel_deliveries where event_id = ${eventId} and target = ${shared} order by user_id`).toHaveLength(2);
  });

  it("drops a code that could not be sent before it expired, unsent", async () => {
    const now = new Date();
    const userId = await user("+34612000005");
    const id = await recordSms(ctx(now), { userId, to: "+34612000005", text: "code 654321", expiresAt: new Date(now.getTime() + 600_000) });
    await sendDueChannelMessages({ db: db.db, now: () => now, ...senders({ sms: { ok: false, error: "answered 500" } }) }, policy, { ids: [id] });
    expect(await row(id)).toMatchObject({ status: "pending", attempts: 1 });
    const late = new Date(now.getTime() + 600_000);
    const s = senders();
    await sendDueChannelMessages({ db: db.db, now: () => late, ...s }, policy, { ids: [id] });
    expect(s.texts).toEqual([]);
    expect(await row(id)).toMatchObject({ status: "dropped", payload: null });
  });

  it("keeps system notifications and direct emails to the inbox and email: no push, no SMS", async () => {
    const now = new Date();
    const userId = await user("+34612000010");
    await db.sql`insert into push_subscriptions (id, user_id, endpoint, p256dh, auth) values (${randomUUID()}, ${userId}, ${`https://push.example/${userId}`}, 'k', 'a')`;
    await db.sql`insert into notification_preferences (user_id, sms_categories) values (${userId}, ${["courseUpdates", "grades", "reminders", "announcements", "discussions"]})`;
    const email = `${userId}@example.test`;
    const reset = composeEmail("password-reset", "en", email, { appUrl: "https://app.example", name: "U", token: "secret-token", expiresAt: now.toUTCString() });
    expect(await recordDirectEmails(ctx(now), [reset])).toHaveLength(1);
    const system = await recordNotifications(ctx(now), [{ userId, eventId: randomUUID(), template: "account-notice", category: null, title: "Security", body: "b" }]);
    expect(system.inboxIds).toHaveLength(1);
    expect(await db.sql`select template from notifications where user_id = ${userId} order by template`).toHaveLength(2);
    expect(await db.sql`select 1 from channel_deliveries where user_id = ${userId}`).toEqual([]);
    // A link-only email (the reset link itself) is only emailed: no inbox entry, one statement as for any address.
    expect(await recordDirectEmails(ctx(now), [reset], { inbox: false })).toHaveLength(1);
    expect(await db.sql`select 1 from notifications where user_id = ${userId}`).toHaveLength(2);
    expect(await db.sql`select 1 from email_deliveries where recipient = ${email}`).toHaveLength(2);
  });

  it("gives up after the last attempt, dropping the SMS text (it may be a code) and keeping the error for an operator", async () => {
    let now = new Date();
    const userId = await user("+34612000004");
    const id = await recordSms(ctx(now), { userId, to: "+34612000004", text: "x" });
    const failing = senders({ sms: { ok: false, error: "answered 500" } });
    for (let i = 0; i < policy.maxAttempts; i++) {
      const at = now;
      await sendDueChannelMessages({ db: db.db, now: () => at, ...failing }, policy, { ids: [id] });
      now = new Date(now.getTime() + 7_200_000);
    }
    expect(await row(id)).toMatchObject({ status: "failed", attempts: 3, payload: null, last_error: "answered 500" });
  });
});
