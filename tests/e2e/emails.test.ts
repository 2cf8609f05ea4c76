import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeEmail } from "../../domain/notifications/compose-email.js";
import { recordEmails } from "../../domain/notifications/email-deliveries.js";
import { systemActor } from "../../domain/shared/context.js";
import { type MailSink, startMailSink } from "@ringlet/local-runtime/mail-sink";
import { freePort } from "@ringlet/local-runtime/ports";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Emails are recorded in the subscription's inbox transaction and sent after it commits. The app sends to an
// SMTP port of this file's own, where the test puts the development mail sink, or a server that never answers.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let smtpPort: number;
let sink: MailSink | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  smtpPort = await freePort();
  sink = await startMailSink({ port: smtpPort });
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      EmailSmtp: `smtp://127.0.0.1:${smtpPort}`,
      // Retries every second, a second's backoff, and SMTP timeouts of 2 s (a quarter of the lease).
      EMAIL_RETRY_SCHEDULE: "*/1 * * * * *",
      EMAIL_RETRY_BASE_S: "1",
      EMAIL_LEASE_S: "8",
    },
  });
  admin = await signUp(app, db, { admin: true, label: "admin" });
});

afterAll(async () => {
  await app?.stop();
  await sink?.stop();
  await db?.drop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });
const mailsTo = (address: string, subjectStart: string) => (sink?.messages() ?? []).filter((m) => m.to.some((t) => t.includes(address)) && m.subject.startsWith(subjectStart));
const deliveriesTo = (address: string, template: string) =>
  db.sql<{ status: string; attempts: number; last_error: string | null; provider_message_id: string | null; sent_at: Date | null; event_id: string }[]>`
    select status, attempts, last_error, provider_message_id, sent_at, event_id from email_deliveries where recipient = ${address} and template = ${template}`;

async function publishedCourse(): Promise<string> {
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Outbox 101" } });
  const { id } = (await created.json()) as { id: string };
  await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken });
  return id;
}

/** A learner whose welcome email has gone out, so only the emails the test causes are in flight. */
async function learner(): Promise<TestUser> {
  const user = await signUp(app, db);
  await until("the welcome email", async () => ((await deliveriesTo(user.email, "welcome"))[0]?.status === "sent" ? true : undefined));
  return user;
}

/** A TCP server on the SMTP port that accepts connections and never says a word. */
async function silentServer(port: number): Promise<{ sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("emails after commit", () => {
  it("sends the email once per (event, recipient) after the commit, and the row ends sent", async () => {
    const courseId = await publishedCourse();
    const user = await learner();
    expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken })).status).toBe(201);
    const [mail] = await until("the enrollment email", async () => {
      const found = mailsTo(user.email, "You are enrolled in Outbox 101");
      return found.length > 0 ? found : undefined;
    });
    expect(mail?.text).toContain(`/courses/${courseId}`);
    const [row] = await until("the row marked sent", async () => {
      const rows = await deliveriesTo(user.email, "enrolled");
      return rows[0]?.status === "sent" ? rows : undefined;
    });
    expect(row).toMatchObject({ status: "sent", attempts: 1, last_error: null });
    expect(row?.provider_message_id).toBeTruthy();
    expect(row?.sent_at).not.toBeNull();
    // The inbox row committed with it.
    const inbox = await db.sql`select 1 from inbox where subscription = 'emails' and message_id = ${row?.event_id as string}`;
    expect(inbox).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(mailsTo(user.email, "You are enrolled in Outbox 101")).toHaveLength(1);
  });

  it("commits the inbox while the mail server does not answer, and the retry timer sends the email once it is back", async () => {
    const courseId = await publishedCourse();
    const user = await learner();
    await sink?.stop();
    sink = undefined;
    const silent = await silentServer(smtpPort);
    try {
      expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken })).status).toBe(201);
      // The send is under way (a connection waits for a greeting that never comes), and meanwhile the inbox row
      // and the pending email are already committed: the transaction did not wait for the mailer.
      await until("a connection to the silent server", async () => (silent.sockets.length > 0 ? true : undefined));
      const [row] = await deliveriesTo(user.email, "enrolled");
      expect(row?.status).toBe("pending");
      expect(await db.sql`select 1 from inbox where subscription = 'emails' and message_id = ${row?.event_id as string}`).toHaveLength(1);
      // The attempt times out (2 s), is counted, and is retried with backoff while the server stays silent.
      const failed = await until("a failed attempt", async () => {
        const [r] = await deliveriesTo(user.email, "enrolled");
        return r && r.attempts >= 1 ? r : undefined;
      });
      expect(failed).toMatchObject({ status: "pending", provider_message_id: null });
      expect(failed.last_error).toMatch(/greeting|timeout/i);
      // The API is not starved while the mail server hangs.
      expect((await call(app, "GET", `/v1/courses/${courseId}`, { token: user.accessToken })).status).toBe(200);
    } finally {
      await silent.close();
    }
    sink = await startMailSink({ port: smtpPort });
    const sent = await until(
      "the email sent by the retry timer",
      async () => {
        const [r] = await deliveriesTo(user.email, "enrolled");
        return r?.status === "sent" ? r : undefined;
      },
      30_000,
    );
    expect(sent.attempts).toBeGreaterThanOrEqual(2);
    expect(sent.last_error).toBeNull();
    await until("the email in the mailbox", async () => (mailsTo(user.email, "You are enrolled in Outbox 101").length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    expect(mailsTo(user.email, "You are enrolled in Outbox 101")).toHaveLength(1);
  }, 60_000);

  it("does not send twice for a redelivered or replayed event", async () => {
    const courseId = await publishedCourse();
    const user = await learner();
    await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken });
    const [first] = await until("the row marked sent", async () => {
      const rows = await deliveriesTo(user.email, "enrolled");
      return rows[0]?.status === "sent" ? rows : undefined;
    });
    const [event] = await db.sql`select id, type, occurred_at, actor, data, traceparent from outbox where id = ${first?.event_id as string}`;
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    const sender = client.createSender("lms-events");
    try {
      const envelope = { id: event?.id, type: event?.type, occurredAt: new Date(event?.occurred_at as string).toISOString(), actor: event?.actor, data: event?.data, traceparent: event?.traceparent };
      // A replay (new message id, past the topic's duplicate detection) and a redelivery of the same message id.
      await sender.sendMessages({ messageId: `${event?.id as string}:replay`, subject: "enrollment.created", contentType: "application/json", body: envelope });
      await sender.sendMessages({ messageId: event?.id as string, subject: "enrollment.created", contentType: "application/json", body: envelope });
    } finally {
      await sender.close();
      await client.close();
    }
    await new Promise((r) => setTimeout(r, 2500));
    expect(mailsTo(user.email, "You are enrolled in Outbox 101")).toHaveLength(1);
    expect(await deliveriesTo(user.email, "enrolled")).toEqual([expect.objectContaining({ status: "sent", attempts: 1 })]);
  });

  it("sends what a crash left recorded but unsent, through the retry timer", async () => {
    // The subscription's transaction committed the row, then the process died before its after-commit step.
    const address = `crash-${randomUUID().slice(0, 8)}@example.org`;
    const eventId = randomUUID();
    await recordEmails({ db: db.db, now: () => new Date(), newId: randomUUID, actor: systemActor }, [
      { eventId, email: composeEmail("welcome", "en", address, { name: "Survivor", appUrl: "http://localhost:3000" }) },
    ]);
    const row = await until("the email sent by the retry timer", async () => {
      const [r] = await deliveriesTo(address, "welcome");
      return r?.status === "sent" ? r : undefined;
    });
    expect(row).toMatchObject({ status: "sent", attempts: 1, event_id: eventId });
    await until("the email in the mailbox", async () => (mailsTo(address, "Welcome to Ringlet, Survivor").length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    expect(mailsTo(address, "Welcome to Ringlet, Survivor")).toHaveLength(1);
  });
});
