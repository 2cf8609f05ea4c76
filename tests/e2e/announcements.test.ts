import { ServiceBusClient } from "@azure/service-bus";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { browserPushSubscription, type BrowserPushSubscription, pushMessages, waitForPush } from "../support/notifications.js";
import { expectProblem, expectValidationProblem } from "../support/problems.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction } from "../support/timers.js";

// Announcements from post to every channel: a scheduled one published by the announcements timer, fanned out by the
// `emails` subscription to the learners' inbox, email and push (through the runtime's development push service),
// once each when the event is sent again (the subscription's inbox stops it before the fan-out; the fan-out's own
// `on conflict` and two timers racing are domain tests: tests/domain/announcements/publish-announcement.test.ts);
// hostile input; corrections, sections and deletion.

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let learners: TestUser[];
let outsider: TestUser;
let courseId: string;
let courseTitle: string;
const pushes = new Map<string, BrowserPushSubscription>();

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
  [instructor, outsider, ...learners] = await Promise.all([
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "outsider" }),
    signUp(app, db, { label: "ana" }),
    signUp(app, db, { label: "ben" }),
  ]);
  courseId = uuidv7();
  courseTitle = `News ${courseId.slice(-6)}`;
  await db.sql`insert into courses (id, title, status, published_at) values (${courseId}, ${courseTitle}, 'published', now())`;
  await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${instructor.id}, 'instructor')`;
  for (const l of learners) {
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${l.id}, 'active', 'staff', now())`;
    // Each learner's browser subscribes to push, as a page would with the PushSubscription it got.
    const subscription = await browserPushSubscription(app);
    const res = await call(app, "POST", "/v1/me/push-subscriptions", { token: l.accessToken, body: subscription });
    expect(res.status, await res.clone().text()).toBe(201);
    pushes.set(l.id, subscription);
  }
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(app) });
const json = async <T = Record<string, unknown>>(res: Response, status: number): Promise<T> => {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
};
const fireTimer = () => fireFunction(app, "announcements-publish");
const announce = (body: Record<string, unknown>, token = instructor.accessToken) => call(app, "POST", `/v1/courses/${courseId}/announcements`, { token, body });
const inbox = async (user: TestUser, query = "") => json<{ items: { id: string; template: string; title: string; body: string; url: string | null; urgent: boolean; readAt: string | null }[]; unreadCount: number; nextCursor: string | null }>(await call(app, "GET", `/v1/me/notifications${query}`, { token: user.accessToken }), 200);
const pushesFor = async (user: TestUser, title: string) => (await pushMessages(app)).filter((p) => p.endpoint === pushes.get(user.id)?.endpoint && (p.payload ?? "").includes(title));
const countRows = async (table: "announcements" | "notifications" | "email_deliveries" | "channel_deliveries", where: string, value: string) =>
  Number((await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where ${where} = $1`, [value]))[0]?.n);

describe("announcements", () => {
  it("publishes a scheduled announcement once and reaches two learners by email, push and inbox exactly once, the subscription's inbox ignoring the event sent again", async () => {
    const publishAt = new Date(Date.now() + 60_000).toISOString();
    const created = await json<{ id: string; status: string }>(await announce({ title: "Exam moved", body: "The exam is on **Friday**.", publishAt }), 201);
    expect(created.status).toBe("scheduled");
    // Scheduled: staff list it, learners do not see it yet.
    const staffList = await json<{ items: { id: string }[] }>(await call(app, "GET", `/v1/courses/${courseId}/announcements`, { token: instructor.accessToken }), 200);
    expect(staffList.items.map((a) => a.id)).toContain(created.id);
    const learnerList = await json<{ items: { id: string }[] }>(await call(app, "GET", `/v1/courses/${courseId}/announcements`, { token: learners[0]?.accessToken }), 200);
    expect(learnerList.items.map((a) => a.id)).not.toContain(created.id);
    await expectProblem(await call(app, "GET", `/v1/announcements/${created.id}`, { token: learners[0]?.accessToken }), 404, "ANNOUNCEMENT_NOT_FOUND");

    // A minute later (the clock moved on): the timer, fired twice, publishes it once. (The runtime may run the two
    // one after the other; two runs overlapping is the domain test's two transactions racing.)
    await db.sql`update announcements set publish_at = now() - interval '1 second' where id = ${created.id}`;
    const fired = await Promise.all([fireTimer(), fireTimer()]);
    expect(fired.map((r) => r.status)).toEqual([202, 202]);
    const [event] = await until("the announcement published", async () => {
      const rows = await db.sql<{ id: string; type: string; occurred_at: Date; actor: unknown; data: unknown; traceparent: string | null }[]>`
        select id, type, occurred_at, actor, data, traceparent from outbox where aggregate_id = ${created.id}`;
      return rows.length > 0 ? rows : undefined;
    });
    for (const learner of learners) {
      const mail = await waitForMail(app, learner.email, `${courseTitle}: Exam moved`);
      expect(mail.text).toContain("The exam is on Friday.");
      const push = await waitForPush(app, pushes.get(learner.id)?.endpoint as string, (p) => (p.payload ?? "").includes("Exam moved"));
      expect(JSON.parse(push.payload as string)).toMatchObject({ title: "Exam moved", body: "The exam is on Friday.", url: expect.stringContaining(`/announcements/${created.id}`) });
      const entries = await inbox(learner, "?unread=true");
      expect(entries.items).toContainEqual(expect.objectContaining({ template: "announcement", title: "Exam moved", body: "The exam is on Friday.", readAt: null }));
    }

    // The same event sent again, with a new message id and with its own: the subscription's inbox knows the event
    // id and skips both before the fan-out (which would itself record nothing twice: see the domain test).
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    const sender = client.createSender("lms-events");
    try {
      const envelope = { id: event?.id, type: event?.type, occurredAt: new Date(event?.occurred_at as Date).toISOString(), actor: event?.actor, data: event?.data, traceparent: event?.traceparent };
      await sender.sendMessages({ messageId: `${event?.id as string}:replay`, subject: "announcement.published", contentType: "application/json", body: envelope });
      await sender.sendMessages({ messageId: event?.id as string, subject: "announcement.published", contentType: "application/json", body: envelope });
    } finally {
      await sender.close();
      await client.close();
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect(await db.sql`select id from outbox where aggregate_id = ${created.id}`).toHaveLength(1);
    for (const learner of learners) {
      expect(await mailsTo(app, learner.email, `${courseTitle}: Exam moved`)).toHaveLength(1);
      expect(await pushesFor(learner, "Exam moved")).toHaveLength(1);
      expect((await inbox(learner)).items.filter((n) => n.template === "announcement" && n.title === "Exam moved")).toHaveLength(1);
    }
    expect(await countRows("notifications", "subject_id", created.id)).toBe(2);
    expect(await countRows("email_deliveries", "event_id", event?.id as string)).toBe(2);
    expect(await countRows("channel_deliveries", "event_id", event?.id as string)).toBe(2);

    // Reading the announcement reads its inbox entry; again changes nothing.
    const [ana, ben] = learners as [TestUser, TestUser];
    const before = await inbox(ana);
    expect((await call(app, "POST", `/v1/announcements/${created.id}/read`, { token: ana.accessToken })).status).toBe(204);
    expect((await call(app, "POST", `/v1/announcements/${created.id}/read`, { token: ana.accessToken })).status).toBe(204);
    const after = await inbox(ana);
    expect(after.unreadCount).toBe(before.unreadCount - 1);
    expect(after.items.find((n) => n.title === "Exam moved")?.readAt).not.toBeNull();
    expect(await json(await call(app, "GET", `/v1/announcements/${created.id}`, { token: ana.accessToken }), 200)).toMatchObject({ read: true, status: "published" });

    // The inbox entry read from the inbox reads the announcement; another's entry is not found; read-all counts.
    const bensEntry = (await inbox(ben)).items.find((n) => n.title === "Exam moved");
    await expectProblem(await call(app, "POST", `/v1/me/notifications/${bensEntry?.id as string}/read`, { token: ana.accessToken }), 404, "NOTIFICATION_NOT_FOUND");
    expect(await json(await call(app, "POST", `/v1/me/notifications/${bensEntry?.id as string}/read`, { token: ben.accessToken }), 200)).toMatchObject({ id: bensEntry?.id, readAt: expect.any(String) });
    const listed = await json<{ items: { id: string; read: boolean }[] }>(await call(app, "GET", `/v1/courses/${courseId}/announcements`, { token: ben.accessToken }), 200);
    expect(listed.items.find((a) => a.id === created.id)?.read).toBe(true);
    const unread = (await inbox(ben)).unreadCount;
    expect(await json(await call(app, "POST", "/v1/me/notifications/read-all", { token: ben.accessToken }), 200)).toEqual({ marked: unread });
    expect((await inbox(ben)).unreadCount).toBe(0);
    expect(await json(await call(app, "POST", "/v1/me/notifications/read-all", { token: ben.accessToken }), 200)).toEqual({ marked: 0 });
    // Pages: keyset by time, a forged cursor is a 400.
    const page = await inbox(ben, "?limit=1");
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).not.toBeNull();
    await expectProblem(await call(app, "GET", "/v1/me/notifications?cursor=bm9wZQ", { token: ben.accessToken }), 400, "INVALID_CURSOR");
  });

  it("renders Markdown inert and refuses hostile input with a problem, storing nothing", async () => {
    const made = await json<{ bodyHtml: string }>(await announce({ title: "Links", body: 'Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)"> **bold**' }), 201);
    // Raw HTML stays text and the javascript: link is no link: no tag or attribute a browser would run.
    expect(made.bodyHtml).not.toMatch(/<script|<img|href="javascript:/i);
    expect(made.bodyHtml).toContain("<strong>bold</strong>");
    expect(made.bodyHtml).toContain("&lt;script&gt;");

    const stored = await countRows("announcements", "course_id", courseId);
    await expectProblem(await announce({ title: "Huge", body: "a".repeat(1_048_576) }), 413, "PAYLOAD_TOO_LARGE");
    await expectProblem(await announce({ title: "Long", body: "a".repeat(20_001) }), 422, "ANNOUNCEMENT_TOO_LONG");
    await expectProblem(await announce({ title: "Nobody", body: "x", sectionId: uuidv7() }), 422, "ANNOUNCEMENT_SECTION_INVALID");
    await expectProblem(await announce({ title: "Past", body: "x", publishAt: new Date(Date.now() - 5 * 60_000).toISOString() }), 422, "ANNOUNCEMENT_PUBLISH_AT_INVALID");
    await expectValidationProblem(await announce({ title: "Nul\u0000", body: "x" }), "body.title");
    await expectProblem(await announce({ title: "Me too", body: "x" }, learners[0]?.accessToken), 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/announcements`, { token: outsider.accessToken }), 403, "FORBIDDEN");
    expect(await countRows("announcements", "course_id", courseId)).toBe(stored);
  });

  it("addresses one section, takes corrections without notifying again, and deletes with its inbox entries", async () => {
    const [ana, ben] = learners as [TestUser, TestUser];
    const sectionId = uuidv7();
    await db.sql`insert into sections (id, course_id, name) values (${sectionId}, ${courseId}, 'Mornings')`;
    await db.sql`update enrollments set section_id = ${sectionId} where course_id = ${courseId} and user_id = ${ana.id}`;
    const made = await json<{ id: string }>(await announce({ title: "Room change", body: "Room 4 today.", sectionId, urgent: true }), 201);
    await waitForMail(app, ana.email, `${courseTitle}: Room change`);
    await expectProblem(await call(app, "GET", `/v1/announcements/${made.id}`, { token: ben.accessToken }), 404, "ANNOUNCEMENT_NOT_FOUND");
    // The reader's ETag carries their read state: reading it makes the old one stale for If-None-Match.
    const unreadEtag = (await call(app, "GET", `/v1/announcements/${made.id}`, { token: ana.accessToken })).headers.get("etag") as string;
    expect((await call(app, "GET", `/v1/announcements/${made.id}`, { token: ana.accessToken, headers: { "if-none-match": unreadEtag } })).status).toBe(304);
    await call(app, "POST", `/v1/announcements/${made.id}/read`, { token: ana.accessToken });
    expect((await call(app, "GET", `/v1/announcements/${made.id}`, { token: ana.accessToken, headers: { "if-none-match": unreadEtag } })).status).toBe(200);
    const etag = (await call(app, "GET", `/v1/announcements/${made.id}`, { token: instructor.accessToken })).headers.get("etag") as string;
    expect(await countRows("notifications", "subject_id", made.id)).toBe(1);

    // Published: its audience and urgency stay; a stale ETag is refused; a correction reaches the inbox only.
    await expectProblem(await call(app, "PATCH", `/v1/announcements/${made.id}`, { token: instructor.accessToken, body: { urgent: false } }), 409, "ANNOUNCEMENT_PUBLISHED");
    const fixed = await call(app, "PATCH", `/v1/announcements/${made.id}`, { token: instructor.accessToken, body: { title: "Room change (4B)" }, headers: { "if-match": etag } });
    expect(await json(fixed, 200)).toMatchObject({ title: "Room change (4B)" });
    await expectProblem(await call(app, "PATCH", `/v1/announcements/${made.id}`, { token: instructor.accessToken, body: { title: "Again" }, headers: { "if-match": etag } }), 412, "PRECONDITION_FAILED");
    expect((await inbox(ana)).items).toContainEqual(expect.objectContaining({ title: "Room change (4B)", urgent: true }));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mailsTo(app, ana.email, `${courseTitle}: Room change`)).toHaveLength(1);

    // A learner may not delete; staff delete it with its inbox entries (audited).
    await expectProblem(await call(app, "DELETE", `/v1/announcements/${made.id}`, { token: ana.accessToken }), 403, "FORBIDDEN");
    expect((await call(app, "DELETE", `/v1/announcements/${made.id}`, { token: instructor.accessToken })).status).toBe(204);
    expect(await countRows("notifications", "subject_id", made.id)).toBe(0);
    expect((await inbox(ana)).items.map((n) => n.title)).not.toContain("Room change (4B)");
    expect(await db.sql`select 1 from audit_log where action = 'announcement.deleted' and target_id = ${made.id}`).toHaveLength(1);
    // Gone: its course cannot be located any more (the access check's 404).
    await expectProblem(await call(app, "GET", `/v1/announcements/${made.id}`, { token: instructor.accessToken }), 404, "NOT_FOUND");
  });
});
