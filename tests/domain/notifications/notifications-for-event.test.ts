import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogEvent, EventData, EventType } from "../../../domain/events/catalog.js";
import { type EmailLinks, notificationsForEvent } from "../../../domain/notifications/notifications-for-event.js";
import { recordNotifications } from "../../../domain/notifications/notify.js";
import { changePreferences, optOut, preferencesOf } from "../../../domain/notifications/preferences.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

// Who an event's notifications go to once preferences are in play: everyone gets the inbox entry, opted-out
// recipients get no email (left out when it is recorded), optional emails carry the unsubscribe link of their
// category, system mail is always sent.

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;
const courseId = randomUUID();
const [keen, quiet, absent] = [randomUUID(), randomUUID(), randomUUID()];

const links: EmailLinks = {
  fileDownloadUrl: async (blob) => `https://files.example/${blob}`,
  unsubscribeUrl: async (userId, category) => `https://api.example/api/v1/unsubscribe?token=${userId}.${category}`,
};

function event<T extends EventType>(type: T, data: EventData<T>): CatalogEvent {
  return { id: randomUUID(), type, occurredAt: new Date().toISOString(), actor: null, data, traceparent: null } as CatalogEvent;
}

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
  for (const [id, name] of [
    [keen, "Keen"],
    [quiet, "Quiet"],
  ] as const) {
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`${name.toLowerCase()}@example.test`}, ${name})`;
  }
  await db.sql`insert into courses (id, title) values (${courseId}, 'Optics')`;
  for (const id of [keen, quiet]) await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${id}, 'grader')`;
  // Quiet wants no optional email at all.
  await inTx((tx) => changePreferences(tx, quiet, { courseUpdates: false, grades: false, reminders: false, announcements: false, discussions: false }));
});

afterAll(async () => {
  await db?.drop();
});

/** Records what the event calls for, and returns the emails recorded and whose inboxes got an entry. */
async function recorded(e: CatalogEvent) {
  const notices = await notificationsForEvent(db.db, e, "https://app.example", links);
  const { inboxIds } = await inTx((tx) => recordNotifications(tx, notices));
  const emails = await db.sql<{ to: string; template: string; text: string; headers: Record<string, string> | null }[]>`
    select recipient as to, template, text, headers from email_deliveries where event_id = ${e.id} order by recipient`;
  const inboxes = await db.sql<{ user_id: string }[]>`select user_id from notifications where event_id = ${e.id} order by user_id`;
  return { emails: emails.map((m) => ({ ...m, headers: m.headers ?? undefined })), inboxes: inboxes.map((r) => r.user_id), made: inboxIds.length };
}

describe("notifications for events, with notification preferences", () => {
  it("leaves a staff member who turned reminders off out of a grading request's email (not its inbox entry), and links the others to unsubscribe", async () => {
    const { emails, inboxes } = await recorded(event("grading.requested", { submissionId: randomUUID(), courseId, assessmentId: randomUUID(), items: ["q1"] }));
    expect(inboxes.sort()).toEqual([keen, quiet].sort());
    expect(emails.map((e) => e.to)).toEqual(["keen@example.test"]);
    expect(emails[0]?.headers).toEqual({
      "List-Unsubscribe": `<https://api.example/api/v1/unsubscribe?token=${keen}.reminders>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
    expect(emails[0]?.text).toContain(`https://api.example/api/v1/unsubscribe?token=${keen}.reminders`);
  });

  it("leaves out course updates for whoever turned them off", async () => {
    const enrolled = (userId: string) => event("enrollment.created", { enrollmentId: randomUUID(), courseId, userId, source: "self" });
    expect((await recorded(enrolled(quiet))).emails).toEqual([]);
    const [email] = (await recorded(enrolled(keen))).emails;
    expect(email?.template).toBe("enrolled");
    expect(email?.headers?.["List-Unsubscribe"]).toContain(`${keen}.courseUpdates`);
  });

  it("records an event's notifications once, however often it is handled", async () => {
    const e = event("enrollment.created", { enrollmentId: randomUUID(), courseId, userId: keen, source: "self" });
    await recorded(e);
    const again = await recorded(e);
    expect(again.made).toBe(0);
    expect(again.inboxes).toEqual([keen]);
    expect(again.emails).toHaveLength(1);
  });

  it("leads a certificate's inbox entry and push to the certificate's page, not to the email's expiring download link", async () => {
    const [certificateId, code] = [randomUUID(), `CERT-${randomUUID().slice(0, 8)}`];
    await db.sql`insert into certificates (id, course_id, user_id, code, learner_name, course_title, blob_name, issued_at)
      values (${certificateId}, ${courseId}, ${keen}, ${code}, 'Keen', 'Optics', ${`certificates/${certificateId}.pdf`}, now())`;
    const e = event("certificate.issued", { certificateId, courseId, userId: keen, code, issuedAt: new Date().toISOString() });
    const { emails } = await recorded(e);
    expect(emails[0]?.text).toContain(`https://files.example/certificates/${certificateId}.pdf`);
    const [entry] = await db.sql<{ url: string | null }[]>`select url from notifications where event_id = ${e.id}`;
    expect(entry?.url).toBe(`https://app.example/certificates/verify/${code}`);
  });

  it("always sends system mail, without an unsubscribe link", async () => {
    const [welcome] = (await recorded(event("user.registered", { userId: quiet, email: "quiet@example.test", displayName: "Quiet" }))).emails;
    expect(welcome?.to).toBe("quiet@example.test");
    expect(welcome?.headers).toBeUndefined();
    expect(welcome?.text).not.toContain("unsubscribe");
  });
});

describe("preferences", () => {
  it("are all on for a user without a row, and a failed precondition changes nothing", async () => {
    expect(await preferencesOf(db.db, keen)).toMatchObject({ courseUpdates: true, grades: true, reminders: true, announcements: true, discussions: true });
    await expect(
      inTx((tx) =>
        changePreferences(tx, keen, { courseUpdates: false, grades: false, reminders: false, announcements: false, discussions: false }, () => {
          throw new Error("precondition failed");
        }),
      ),
    ).rejects.toThrow("precondition failed");
    expect(await db.sql`select 1 from notification_preferences where user_id = ${keen}`).toHaveLength(0);
  });

  it("opt out of one category at a time, and not for a user who does not exist", async () => {
    expect(await inTx((tx) => optOut(tx, keen, "grades"))).toBe(true);
    expect(await inTx((tx) => optOut(tx, keen, "grades"))).toBe(true);
    expect(await preferencesOf(db.db, keen)).toMatchObject({ courseUpdates: true, grades: false, reminders: true, announcements: true, discussions: true });
    expect(await inTx((tx) => optOut(tx, absent, "grades"))).toBe(false);
    expect(await db.sql`select 1 from notification_preferences where user_id = ${absent}`).toHaveLength(0);
  });
});
