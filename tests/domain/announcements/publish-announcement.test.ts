import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announcementNotifications } from "../../../domain/announcements/announcement-notifications.js";
import { announcementsPart } from "../../../domain/announcements/announcement-personal-data.js";
import type { ActivityStore } from "../../../domain/activity/statements.js";
import { deleteAnnouncement } from "../../../domain/announcements/change-announcement.js";
import { publishDueAnnouncements } from "../../../domain/announcements/publish-announcement.js";
import type { CourseViewer } from "../../../domain/catalog/viewer.js";
import { recordNotifications } from "../../../domain/notifications/notify.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;
const links = { unsubscribeUrl: async (userId: string) => `https://api.example/unsubscribe/${userId}` };

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
});
afterAll(async () => {
  await db?.close();
});

async function scheduled(courseId: string, count: number, sectionId: string | null = null): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uuidv7());
  for (const id of ids) {
    await db.sql`insert into announcements (id, course_id, section_id, title, body_markdown, body_html, publish_at)
      values (${id}, ${courseId}, ${sectionId}, 'Due', 'Hello **all**', '<p>Hello <strong>all</strong></p>', now() - interval '1 second')`;
  }
  return ids;
}

describe("publishing due announcements", () => {
  it("publishes each due one exactly once when two timers run at the same time", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const ids = await scheduled(courseId, 25);
    // Later ones stay scheduled.
    await db.sql`insert into announcements (id, course_id, title, body_markdown, body_html, publish_at) values (${uuidv7()}, ${courseId}, 'Later', 'x', '<p>x</p>', now() + interval '1 hour')`;
    const [a, b] = await Promise.all([publishDueAnnouncements(ctx, 4), publishDueAnnouncements(ctx, 4)]);
    expect((a?.published ?? 0) + (b?.published ?? 0)).toBe(25);
    const events = await db.sql<{ aggregate_id: string }[]>`select aggregate_id from outbox where type = 'announcement.published' and course_id = ${courseId}`;
    expect(events.map((e) => e.aggregate_id).sort()).toEqual([...ids].sort());
    const [left] = await db.sql<{ n: number }[]>`select count(*)::int as n from announcements where course_id = ${courseId} and published_at is null`;
    expect(left?.n).toBe(1);
    expect(await publishDueAnnouncements(ctx)).toEqual({ published: 0 });
  });
});

describe("who hears of an announcement", () => {
  it("tells the section's active learners and the staff who see it, not the author nor erased or dropped learners", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 100, title: "Rust 101" });
    const [sectionA, sectionB] = [uuidv7(), uuidv7()];
    await db.sql`insert into sections (id, course_id, name) values (${sectionA}, ${courseId}, 'A'), (${sectionB}, ${courseId}, 'B')`;
    const [inA, inB, dropped, erased, unplaced, author, coInstructor, scopedA, scopedB] = await insertLearners(db.sql, 9, "fanout");
    const enroll = (userId: string | undefined, sectionId: string | null, status = "active") =>
      db.sql`insert into enrollments (id, course_id, user_id, status, source, section_id, enrolled_at) values (${uuidv7()}, ${courseId}, ${userId as string}, ${status}, 'staff', ${sectionId}, now())`;
    await enroll(inA, sectionA);
    await enroll(inB, sectionB);
    await enroll(dropped, sectionA, "dropped");
    await enroll(erased, sectionA);
    await enroll(unplaced, null);
    await db.sql`update users set erased_at = now(), locale = 'es' where id = ${erased as string}`;
    for (const staff of [author, coInstructor, scopedA, scopedB]) await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${staff as string}, 'instructor')`;
    await db.sql`insert into course_staff_sections (course_id, user_id, section_id) values (${courseId}, ${scopedA as string}, ${sectionA}), (${courseId}, ${scopedB as string}, ${sectionB})`;
    await db.sql`update users set locale = 'es' where id = ${inA as string}`;

    const announce = async (sectionId: string | null) => {
      const id = uuidv7();
      await db.sql`insert into announcements (id, course_id, section_id, author_user_id, title, body_markdown, body_html, urgent, publish_at, published_at)
        values (${id}, ${courseId}, ${sectionId}, ${author as string}, 'Exam moved', 'The exam is **Friday**. <script>x</script>', '', true, now(), now())`;
      const data = { announcementId: id, courseId, sectionId, publishedAt: new Date().toISOString() };
      return { id, notices: await db.db.transaction((tx) => announcementNotifications(tx, uuidv7(), data, "https://app.example", links)) };
    };

    const toA = await announce(sectionA);
    expect(new Set(toA.notices.map((n) => n.userId))).toEqual(new Set([inA, coInstructor, scopedA]));
    const learner = toA.notices.find((n) => n.userId === inA);
    expect(learner).toMatchObject({
      template: "announcement",
      category: "announcements",
      urgent: true,
      title: "Exam moved",
      body: "The exam is Friday. <script>x</script>",
      url: `https://app.example/courses/${courseId}/announcements/${toA.id}`,
      subject: { type: "announcement", id: toA.id },
    });
    expect(learner?.email).toMatchObject({ locale: "es", subject: "Rust 101: Exam moved" });
    // The author's text is escaped in the HTML part, like every value.
    expect(learner?.email?.html).toContain("&lt;script&gt;");
    expect(learner?.email?.html).not.toContain("<script>");

    const toAll = await announce(null);
    expect(new Set(toAll.notices.map((n) => n.userId))).toEqual(new Set([inA, inB, unplaced, coInstructor, scopedA, scopedB]));
  });

  it("tells nobody of an announcement deleted before its fan-out", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const data = { announcementId: uuidv7(), courseId, sectionId: null, publishedAt: new Date().toISOString() };
    expect(await db.db.transaction((tx) => announcementNotifications(tx, uuidv7(), data, "https://app.example", links))).toEqual([]);
  });
});

describe("an announcement's fan-out and its deletion", () => {
  async function published() {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [ana, ben, author] = (await insertLearners(db.sql, 3, "fanout-twice")) as [string, string, string];
    for (const userId of [ana, ben]) {
      await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'staff', now())`;
    }
    await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${author}, 'instructor')`;
    // Ana's browser subscribed to push (announcements are pushed by default).
    await db.sql`insert into push_subscriptions (id, user_id, endpoint, p256dh, auth) values (${uuidv7()}, ${ana}, ${`https://push.example/${uuidv7()}`}, 'key', 'auth')`;
    const id = uuidv7();
    await db.sql`insert into announcements (id, course_id, author_user_id, title, body_markdown, body_html, publish_at, published_at)
      values (${id}, ${courseId}, ${author}, 'Exam moved', 'Friday', '<p>Friday</p>', now(), now())`;
    const eventId = uuidv7();
    const data = { announcementId: id, courseId, sectionId: null, publishedAt: new Date().toISOString() };
    const fanOut = () => inTransactionOf(db, ctx)(async (tx) => recordNotifications(tx, await announcementNotifications(tx.db, eventId, data, "https://app.example", links)));
    const author_: CourseViewer = { userId: author, isAdmin: false, roleIn: async (c) => (c === courseId ? "instructor" : null) };
    return { id, eventId, fanOut, author: author_ };
  }
  const count = async (table: "notifications" | "email_deliveries" | "channel_deliveries", eventId: string) =>
    Number((await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where event_id = $1`, [eventId]))[0]?.n);

  it("records nothing the second time the same event is fanned out: no second inbox entry, email or push", async () => {
    const { eventId, fanOut } = await published();
    const first = await fanOut();
    expect([first.inboxIds.length, first.emailIds.length, first.channelIds.length]).toEqual([2, 2, 1]);
    // The same event handled again (a redelivery the subscription's inbox did not catch): the `on conflict` path.
    expect(await fanOut()).toEqual({ inboxIds: [], emailIds: [], channelIds: [] });
    expect([await count("notifications", eventId), await count("email_deliveries", eventId), await count("channel_deliveries", eventId)]).toEqual([2, 2, 1]);
  });

  it("drops the emails and pushes not sent yet (a first attempt or a retry) when it is deleted, and keeps the record of what was sent", async () => {
    const { id, eventId, fanOut, author } = await published();
    await fanOut();
    // One email went out; the other failed once and waits for the retry timer.
    const [sent, retrying] = await db.sql<{ id: string }[]>`select id from email_deliveries where event_id = ${eventId} order by recipient`;
    await db.sql`update email_deliveries set status = 'sent', sent_at = now(), text = null, html = null where id = ${sent?.id as string}`;
    await db.sql`update email_deliveries set attempts = 1, last_error = 'timeout', next_attempt_at = now() + interval '1 minute' where id = ${retrying?.id as string}`;

    expect((await inTransactionOf(db, ctx)((tx) => deleteAnnouncement(tx, id, author, undefined))).ok).toBe(true);
    const left = await db.sql<{ id: string; status: string }[]>`select id, status from email_deliveries where event_id = ${eventId}`;
    expect(left).toEqual([{ id: sent?.id, status: "sent" }]);
    expect(await count("channel_deliveries", eventId)).toBe(0);
    expect(await count("notifications", eventId)).toBe(0);
  });
});

describe("the data export's announcements", () => {
  it("holds what the person wrote in full and, of others' announcements, only which they read and when", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [writer, reader] = await insertLearners(db.sql, 2, "export");
    const [mine, theirs, unread] = [uuidv7(), uuidv7(), uuidv7()];
    for (const [id, author] of [[mine, writer], [theirs, reader], [unread, reader]] as const) {
      await db.sql`insert into announcements (id, course_id, author_user_id, title, body_markdown, body_html, publish_at, published_at)
        values (${id}, ${courseId}, ${author as string}, ${`Title ${id}`}, 'Text', '<p>Text</p>', now(), now())`;
    }
    await db.sql`insert into announcement_reads (announcement_id, user_id) values (${theirs}, ${writer as string})`;
    const rows: unknown[] = [];
    for await (const page of announcementsPart.pages({ db: db.db, activity: {} as ActivityStore }, writer as string)) rows.push(...page);
    expect(rows).toEqual([
      expect.objectContaining({ id: mine, wrote: true, title: `Title ${mine}`, body: "Text", readAt: null }),
      expect.objectContaining({ id: theirs, wrote: false, title: null, body: null, readAt: expect.any(Date) }),
    ]);
  });
});
