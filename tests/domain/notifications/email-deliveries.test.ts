import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeEmail } from "../../../domain/notifications/compose-email.js";
import {
  claimDueEmails,
  type EmailSendPolicy,
  type Mailer,
  type OutgoingEmail,
  recordEmails,
  sendDueEmails,
} from "../../../domain/notifications/email-deliveries.js";
import { type DomainContext, systemActor } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  // Several connections: the concurrent claimers below really run in parallel.
  db = await createTestDatabase({ max: 6 });
});
afterAll(async () => {
  await db?.drop();
});

const policy: EmailSendPolicy = { maxAttempts: 4, baseDelaySeconds: 30, maxDelaySeconds: 3600, leaseSeconds: 60, concurrency: 4 };

/** A clock the test moves by hand. */
function clock(start = new Date()) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (seconds: number) => (now += seconds * 1000) };
}

const ctxAt = (now: () => Date): DomainContext => ({ db: db.db, now, newId: randomUUID, actor: systemActor });

/** A mailer that keeps what it was asked to send; `fail` makes it throw instead. */
function recordingMailer(options: { delayMs?: number; fail?: () => boolean } = {}) {
  const sent: OutgoingEmail[] = [];
  const mailer: Mailer = {
    async send(email) {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail?.()) throw new Error("421 mail server unavailable");
      sent.push(email);
      return { messageId: `<${randomUUID()}@test>` };
    },
  };
  return { mailer, sent };
}

const welcome = (to: string) => composeEmail("welcome", "en", to, { name: "Ada", appUrl: "https://app.example" });
const ms = (timestamp: unknown) => new Date(timestamp as string).getTime();
const rowsOf = (eventId: string) =>
  db.sql`select recipient, status, attempts, subject, text, html, template, locale, last_error, next_attempt_at, provider_message_id, sent_at
    from email_deliveries where event_id = ${eventId} order by recipient`;

describe("email deliveries (an outbox)", () => {
  it("records one pending row per (event, recipient) with what to send, due now, and keeps it once", async () => {
    const c = clock();
    const eventId = randomUUID();
    const ids = await db.db.transaction((tx) =>
      recordEmails({ ...ctxAt(c.now), db: tx }, [
        { eventId, email: welcome("Ada@Example.org") },
        // The same person twice in one batch (staff in two roles): one row.
        { eventId, email: welcome("ada@example.org") },
        { eventId, email: welcome("bob@example.org") },
      ]),
    );
    expect(ids).toHaveLength(2);
    const rows = await rowsOf(eventId);
    expect(rows).toEqual([
      expect.objectContaining({ recipient: "ada@example.org", status: "pending", attempts: 0, template: "welcome", locale: "en", last_error: null, sent_at: null }),
      expect.objectContaining({ recipient: "bob@example.org", status: "pending", attempts: 0 }),
    ]);
    expect(rows[0]?.subject).toBe("Welcome to Ringlet, Ada");
    expect(rows[0]?.text).toContain("https://app.example/courses");
    expect(rows[0]?.html).toContain('<a href="https://app.example/courses">');
    expect(ms(rows[0]?.next_attempt_at)).toBe(c.now().getTime());
    // A redelivered event records nothing new and hands nothing to send.
    expect(await recordEmails(ctxAt(c.now), [{ eventId, email: welcome("ada@example.org") }])).toEqual([]);
    expect(await rowsOf(eventId)).toHaveLength(2);
  });

  it("sends what it recorded once, outside the transaction, and marks it sent", async () => {
    const c = clock();
    const eventId = randomUUID();
    const ids = await recordEmails(ctxAt(c.now), [{ eventId, email: welcome("carol@example.org") }]);
    const { mailer, sent } = recordingMailer();
    const outcomes = await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { ids });
    expect(outcomes.map((o) => o.status)).toEqual(["sent"]);
    expect(sent).toEqual([expect.objectContaining({ to: "carol@example.org", subject: "Welcome to Ringlet, Ada", template: "welcome", locale: "en" })]);
    const [row] = await rowsOf(eventId);
    // Sent, with the provider's id; the bodies (whose links may carry tokens) are not kept.
    expect(row).toMatchObject({ status: "sent", attempts: 1, next_attempt_at: null, last_error: null, text: null, html: null });
    expect(row?.provider_message_id).toMatch(/@test>$/);
    expect(ms(row?.sent_at)).toBe(c.now().getTime());
    // Sent is sent: neither the same step again nor the retry timer sends it a second time.
    c.advance(3600);
    expect(await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { ids })).toEqual([]);
    expect((await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { maxRounds: 50 })).filter((o) => o.delivery.eventId === eventId)).toEqual([]);
    expect(sent.filter((m) => m.to === "carol@example.org")).toHaveLength(1);
  });

  it("never sends a row twice when two senders claim at the same time", async () => {
    const c = clock();
    const eventIds = Array.from({ length: 60 }, () => randomUUID());
    const ids = await recordEmails(
      ctxAt(c.now),
      eventIds.map((eventId, i) => ({ eventId, email: welcome(`learner${i}@race.example`) })),
    );
    expect(ids).toHaveLength(60);
    const { mailer, sent } = recordingMailer({ delayMs: 3 });
    const sender = { db: db.db, now: c.now, mailer };
    // The after-commit step of the handler that recorded them, and two retry timers, all at once.
    const outcomes = (
      await Promise.all([sendDueEmails(sender, policy, { ids }), sendDueEmails(sender, policy, { maxRounds: 50 }), sendDueEmails(sender, policy, { maxRounds: 50 })])
    ).flat();
    const ours = sent.filter((m) => m.to.endsWith("@race.example"));
    expect(ours).toHaveLength(60);
    expect(new Set(ours.map((m) => m.to)).size).toBe(60);
    expect(outcomes.filter((o) => ids.includes(o.delivery.id)).map((o) => o.status)).toEqual(Array(60).fill("sent"));
    const [counts] = await db.sql`select count(*) filter (where status = 'sent' and attempts = 1)::int as sent, count(*)::int as total
      from email_deliveries where event_id = any(${eventIds}::uuid[])`;
    expect(counts).toEqual({ sent: 60, total: 60 });
  });

  it("leaves what a crash left between commit and send (or after a claim) to the next sender", async () => {
    const c = clock();
    const eventId = randomUUID();
    // Recorded and committed, but the after-commit step never ran (the process died): the timer's sweep sends it.
    await recordEmails(ctxAt(c.now), [{ eventId, email: welcome("dave@example.org") }]);
    const { mailer, sent } = recordingMailer();
    c.advance(1);
    const swept = await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { maxRounds: 50 });
    expect(swept.filter((o) => o.delivery.eventId === eventId).map((o) => o.status)).toEqual(["sent"]);
    expect(sent.filter((m) => m.to === "dave@example.org")).toHaveLength(1);

    // Claimed, then the sender died before sending: nobody else takes it until the lease is over.
    const other = randomUUID();
    const ids = await recordEmails(ctxAt(c.now), [{ eventId: other, email: welcome("erin@example.org") }]);
    expect((await claimDueEmails(db.db, c.now(), { leaseSeconds: policy.leaseSeconds, limit: 100, ids })).map((r) => r.eventId)).toEqual([other]);
    c.advance(policy.leaseSeconds - 1);
    expect(await claimDueEmails(db.db, c.now(), { leaseSeconds: policy.leaseSeconds, limit: 100, ids })).toEqual([]);
    expect((await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { maxRounds: 50 })).filter((o) => o.delivery.eventId === other)).toEqual([]);
    c.advance(1);
    const retried = await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { maxRounds: 50 });
    expect(retried.filter((o) => o.delivery.eventId === other).map((o) => o.status)).toEqual(["sent"]);
    expect(sent.filter((m) => m.to === "erin@example.org")).toHaveLength(1);
  });

  it("backs off exponentially after failures and gives up (failed) after the maximum attempts", async () => {
    const c = clock();
    const eventId = randomUUID();
    const ids = await recordEmails(ctxAt(c.now), [{ eventId, email: welcome("frank@example.org") }]);
    const { mailer, sent } = recordingMailer({ fail: () => true });
    // Only this row: other tests' rows are no business of this failing mailer.
    const sender = { db: db.db, now: c.now, mailer };
    const first = await sendDueEmails(sender, policy, { ids });
    expect(first).toEqual([expect.objectContaining({ status: "pending", attempts: 1, error: "421 mail server unavailable" })]);
    // Waits 30 s, then 60, then 120; not a moment earlier.
    for (const [attempt, wait] of [
      [2, 30],
      [3, 60],
    ] as const) {
      const [row] = await rowsOf(eventId);
      expect(row).toMatchObject({ status: "pending", attempts: attempt - 1, last_error: "421 mail server unavailable" });
      expect(ms(row?.next_attempt_at) - c.now().getTime()).toBe(wait * 1000);
      c.advance(wait - 1);
      expect(await sendDueEmails(sender, policy, { ids })).toEqual([]);
      c.advance(1);
      expect((await sendDueEmails(sender, policy, { ids })).map((o) => [o.status, o.attempts])).toEqual([["pending", attempt]]);
    }
    c.advance(120);
    expect((await sendDueEmails(sender, policy, { ids })).map((o) => [o.status, o.attempts, o.nextAttemptAt])).toEqual([["failed", 4, null]]);
    const [row] = await rowsOf(eventId);
    expect(row).toMatchObject({ status: "failed", attempts: 4, next_attempt_at: null, last_error: "421 mail server unavailable", sent_at: null });
    // Kept to be sent again by hand once the cause is fixed.
    expect(row?.text).toContain("Hello Ada");
    c.advance(86_400);
    expect(await sendDueEmails(sender, policy, { ids })).toEqual([]);
    expect(sent).toHaveLength(0);
  });

  it("sends once the mail server is back, counting the attempts it took", async () => {
    const c = clock();
    const eventId = randomUUID();
    const ids = await recordEmails(ctxAt(c.now), [{ eventId, email: welcome("grace@example.org") }]);
    let down = true;
    const { mailer, sent } = recordingMailer({ fail: () => down });
    await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { ids });
    down = false;
    c.advance(30);
    expect((await sendDueEmails({ db: db.db, now: c.now, mailer }, policy, { ids })).map((o) => o.status)).toEqual(["sent"]);
    expect(await rowsOf(eventId)).toEqual([expect.objectContaining({ status: "sent", attempts: 2, last_error: null, next_attempt_at: null })]);
    expect(sent).toHaveLength(1);
  });
});
