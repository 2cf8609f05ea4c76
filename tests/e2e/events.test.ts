import { createHmac } from "node:crypto";
import { mkdtemp, rm, chmod } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@ringlet/local-runtime/ports";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";

/** A webhook receiver on loopback that keeps every request, and can be told to fail. */
interface Received {
  eventId: string;
  eventType: string;
  signature: string;
  body: string;
}
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let secret: string;
let busDir: string;

async function startRingletApp(extra: Record<string, string> = {}) {
  // Fast sweeps and short delivery leases: a delivery planned just before a crash is retried within seconds.
  return startApp({
    env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", WEBHOOK_TIMEOUT_MS: "2000", WEBHOOK_RETRY_SCHEDULE: "*/1 * * * * *", ...extra },
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({
        eventId: String(req.headers["ringlet-event-id"]),
        eventType: String(req.headers["ringlet-event-type"]),
        signature: String(req.headers["ringlet-signature"]),
        body,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;

  db = await createTestDatabase();
  busDir = await mkdtemp(join(tmpdir(), "ringlet-bus-"));
  await chmod(busDir, 0o755);
  // A broker that keeps its messages on disk, on a fixed port, so a restarted runtime finds them.
  const busPort = await freePort();
  app = await startRingletApp({
    ServiceBusConnection: `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    LOCAL_SERVICEBUS_DATA: busDir,
  });
  admin = await signUp(app, db, { admin: true, label: "admin" });
  const hook = await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: receiverUrl, eventTypes: ["enrollment.created"] } });
  expect(hook.status, await hook.clone().text()).toBe(201);
  secret = ((await hook.json()) as { secret: string }).secret;
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await new Promise((r) => receiver?.close(r));
  if (busDir) await rm(busDir, { recursive: true, force: true });
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

async function publishedCourse(): Promise<string> {
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Events" } });
  const { id } = (await created.json()) as { id: string };
  await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken });
  return id;
}

const deliveriesOf = (eventId: string) => db.sql`select status, attempts from webhook_deliveries where event_id = ${eventId}`;
const enrollmentEvent = async (courseId: string, userId: string) =>
  (await db.sql<{ id: string; published_at: Date | null }[]>`
    select id, published_at from outbox where type = 'enrollment.created' and course_id = ${courseId} and data->>'userId' = ${userId}`)[0];

describe("from commit to webhook", () => {
  it("delivers one enrollment as exactly one signed webhook", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
    const event = await until("the enrollment event", () => enrollmentEvent(courseId, learner.id));
    const got = await until("the webhook", async () => received.find((r) => r.eventId === event.id));
    // The receiver verifies the signature: HMAC-SHA256 over "<t>.<body>" with the endpoint's secret.
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(got.signature);
    expect(m).not.toBeNull();
    const expected = createHmac("sha256", secret).update(`${m?.[1]}.${got.body}`).digest("hex");
    expect(m?.[2]).toBe(expected);
    expect(Math.abs(Date.now() / 1000 - Number(m?.[1]))).toBeLessThan(60);
    expect(JSON.parse(got.body)).toMatchObject({ id: event.id, type: "enrollment.created", data: { courseId, userId: learner.id } });
    // Exactly one: give stragglers a moment, then count.
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => r.eventId === event.id)).toHaveLength(1);
    expect(await deliveriesOf(event.id)).toEqual([{ status: "succeeded", attempts: 1 }]);
    expect((await enrollmentEvent(courseId, learner.id))?.published_at).not.toBeNull();
    const log = (await jsonOf(await call(app, "GET", `/v1/webhooks/${(await db.sql`select id from webhooks`)[0]?.id as string}/deliveries`, { token: admin.accessToken }))) as {
      items: { eventId: string; status: string; lastStatusCode: number }[];
    };
    expect(log.items.find((d) => d.eventId === event.id)).toMatchObject({ status: "succeeded", lastStatusCode: 204 });
  });

  it("sends one email per enrollment, in the learner's language, to the development mailbox", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    type Mail = { to: string[]; subject: string; text: string };
    const mailsTo = async (address: string) =>
      ((await (await fetch(`${app.baseUrl}/admin/mailbox/messages`)).json()) as Mail[]).filter((m) => m.to.some((t) => t.includes(address)));
    // Emails are written in the recipient's language at the time of sending: the welcome email goes out (in
    // English) before the learner switches to Spanish. Registration answers before its event is published.
    await until("the welcome email", async () => (await mailsTo(learner.email)).find((m) => m.subject.startsWith("Welcome to Ringlet")));
    await call(app, "PATCH", "/v1/me", { token: learner.accessToken, body: { locale: "es" } });
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
    const enrolled = await until("the enrollment email", async () => (await mailsTo(learner.email)).find((m) => m.subject.startsWith("Te has inscrito")));
    expect(enrolled.text).toContain("Events");
    await new Promise((r) => setTimeout(r, 500));
    expect((await mailsTo(learner.email)).filter((m) => m.subject.startsWith("Te has inscrito"))).toHaveLength(1);
    // The event-driven ones (the address confirmation of registration is recorded directly, with no event).
    const sent = await db.sql`select template, locale, status from email_deliveries where recipient = ${learner.email} and template <> 'verify-email' order by template`;
    expect(sent).toEqual([
      { template: "enrolled", locale: "es", status: "sent" },
      { template: "welcome", locale: "en", status: "sent" },
    ]);
  });

  it("has one effect when a message is delivered twice", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });
    const event = await until("the enrollment event", () => enrollmentEvent(courseId, learner.id));
    await until("the first delivery", async () => received.find((r) => r.eventId === event.id));
    // The same event again, under a new message id (so the topic's duplicate detection lets it through).
    const [row] = await db.sql`select id, type, occurred_at, actor, data, traceparent from outbox where id = ${event.id}`;
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    const sender = client.createSender("lms-events");
    try {
      const envelope = { id: row?.id, type: row?.type, occurredAt: new Date(row?.occurred_at as string).toISOString(), actor: row?.actor, data: row?.data, traceparent: row?.traceparent };
      await sender.sendMessages({ messageId: `${event.id}:again`, subject: "enrollment.created", contentType: "application/json", body: envelope });
      await sender.sendMessages({ messageId: event.id, subject: "enrollment.created", contentType: "application/json", body: envelope });
    } finally {
      await sender.close();
      await client.close();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.filter((r) => r.eventId === event.id)).toHaveLength(1);
    expect(await deliveriesOf(event.id)).toHaveLength(1);
  });

  it("retries a failing handler, dead-letters it at the max delivery count, and replays it once fixed", async () => {
    const courseId = await publishedCourse();
    const learner = await signUp(app, db);
    // A real fault: the webhook handler's table is gone, so every delivery of the event throws.
    await db.sql`alter table webhook_deliveries rename to webhook_deliveries_away`;
    try {
      await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });
      const event = await until("the enrollment event", () => enrollmentEvent(courseId, learner.id));
      const dead = await until("the dead letter", async () => {
        const list = (await jsonOf(await call(app, "GET", "/v1/ops/dead-letters?subscription=webhooks", { token: admin.accessToken }))) as {
          items: { messageId: string; deadLetterReason: string; deliveryCount: number }[];
        };
        return list.items.find((d) => d.messageId === event.id);
      }, 30_000);
      expect(dead.deadLetterReason).toBe("MaxDeliveryCountExceeded");
      expect(dead.deliveryCount).toBeGreaterThanOrEqual(10);
      expect(received.filter((r) => r.eventId === event.id)).toHaveLength(0);
    } finally {
      await db.sql`alter table webhook_deliveries_away rename to webhook_deliveries`;
    }
    const event = await enrollmentEvent(courseId, learner.id);
    const replay = await call(app, "POST", "/v1/ops/dead-letters/webhooks/replay", { token: admin.accessToken, body: { messageId: event?.id } });
    expect(await jsonOf(replay)).toEqual({ replayed: 1 });
    await until("the replayed delivery", async () => received.find((r) => r.eventId === event?.id));
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((r) => r.eventId === event?.id)).toHaveLength(1);
    // Other subscriptions that handled the event the first time did nothing twice (inbox by event id).
    const inbox = await db.sql`select subscription from inbox where message_id = ${event?.id as string} order by subscription`;
    expect(inbox.map((r) => r.subscription).filter((s) => s === "webhooks")).toEqual(["webhooks"]);
  });

  it("loses nothing when the runtime is killed between commit and publish", async () => {
    const courseId = await publishedCourse();
    const learners = await Promise.all(Array.from({ length: 5 }, () => signUp(app, db)));
    // Committed but never published: exactly what a crash right after commit leaves behind.
    const ids: string[] = [];
    for (const l of learners) {
      const id = crypto.randomUUID();
      ids.push(id);
      await db.sql`insert into outbox (id, type, aggregate_type, aggregate_id, course_id, occurred_at, data)
        values (${id}, 'enrollment.created', 'enrollment', ${id}, ${courseId}, now(),
          ${JSON.stringify({ enrollmentId: id, courseId, userId: l.id, source: "self" })}::jsonb)`;
    }
    // And a burst of real writes with the process killed while they are in flight.
    const burst = learners.map((l) => call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: l.accessToken }).catch(() => null));
    await new Promise((r) => setTimeout(r, 50));
    app.process.kill("SIGKILL");
    await Promise.all(burst);
    await app.stop();

    app = await startRingletApp({ ServiceBusConnection: app.env.ServiceBusConnection as string, LOCAL_SERVICEBUS_DATA: busDir });
    const committed = await db.sql<{ id: string }[]>`select id from outbox where type = 'enrollment.created' and course_id = ${courseId}`;
    for (const { id } of committed) {
      try {
        // Longer than a subscription's lock (PT1M): a message the killed host had taken stays locked until then.
        await until(`delivery of ${id}`, async () => ((await deliveriesOf(id)).length === 1 && received.some((r) => r.eventId === id) ? true : undefined), 75_000);
      } catch (err) {
        const state = {
          outbox: await db.sql`select published_at, publish_attempts, last_error from outbox where id = ${id}`,
          inbox: await db.sql`select subscription, status, reason from inbox where message_id = ${id}`,
          deliveries: await db.sql`select status, attempts, last_error, next_attempt_at from webhook_deliveries where event_id = ${id}`,
          received: received.filter((r) => r.eventId === id).length,
        };
        throw new Error(`${(err as Error).message}\nstate: ${JSON.stringify(state)}\n${app.output().slice(-3000)}`);
      }
    }
    for (const { id } of committed) {
      expect(await deliveriesOf(id), id).toHaveLength(1);
      expect((await db.sql`select count(*)::int as n from inbox where subscription = 'webhooks' and message_id = ${id}`)[0]?.n, id).toBe(1);
    }
    expect(committed.length).toBeGreaterThanOrEqual(ids.length);
  }, 150_000);
});
