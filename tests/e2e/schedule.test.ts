import ICAL from "ical.js";
import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";

/**
 * Class schedule and calendar feeds over HTTP: a weekly series across the next daylight-saving change in
 * Europe/Madrid, learners' and staff's schedules, changing one occurrence and all following, cancelling with
 * emails, and the iCalendar feed parsed back with ical.js (an independent parser).
 */

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let grader: TestUser;
let ann: TestUser;
let bob: TestUser;
let outsider: TestUser;
let courseId: string;
let sectionA: string;
let sectionB: string;
let seriesId: string;
let occurrenceIds: string[] = [];
let oneOffId: string;
let assessmentId: string;

const ZONE = "Europe/Madrid";
/** The Sunday of the next clock change in Madrid at least a week away (last Sunday of March or October). */
const dstSunday = (() => {
  let day = DateTime.now().setZone(ZONE).startOf("day").plus({ days: 7 });
  while (day.plus({ days: 1 }).set({ hour: 12 }).offset === day.set({ hour: 12 }).offset) day = day.plus({ days: 1 });
  return day.plus({ days: 1 });
})();
const dateAt = (days: number) => dstSunday.plus({ days }).toISODate() as string;
/** Monday 13 days before the change to Wednesday 10 days after, Mondays and Wednesdays, one Wednesday off. */
const rule = { weekdays: [1, 3], startTime: "10:00", durationMinutes: 90, timeZone: ZONE, startsOn: dateAt(-13), until: dateAt(10), exceptions: [dateAt(-11)] };
const expectedDates = [-13, -6, -4, 1, 3, 8, 10].map(dateAt);
const wide = { from: dstSunday.minus({ days: 60 }).toUTC().toISO() as string, to: dstSunday.plus({ days: 60 }).toUTC().toISO() as string };

/** Local wall-clock "HH:MM" of an instant in a zone, by Intl (not the library the app computes with). */
const wallClock = (iso: string, zone = ZONE) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", SCHEDULE_MAX_OCCURRENCES: "100" }));
  [admin, instructor, grader, ann, bob, outsider] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "grader" }),
    signUp(app, db, { label: "ann" }),
    signUp(app, db, { label: "bob" }),
    signUp(app, db, { label: "outsider" }),
  ]);
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Maths, Physics; and \"more\"" } });
  courseId = ((await created.json()) as { id: string }).id;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  for (const [user, role] of [[instructor, "instructor"], [grader, "grader"]] as const) {
    expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, { token: admin.accessToken, body: { userId: user.id, role } })).status).toBe(200);
  }
  sectionA = ((await (await call(app, "POST", `/v1/courses/${courseId}/sections`, { token: admin.accessToken, body: { name: "A" } })).json()) as { id: string }).id;
  sectionB = ((await (await call(app, "POST", `/v1/courses/${courseId}/sections`, { token: admin.accessToken, body: { name: "B" } })).json()) as { id: string }).id;
  for (const [learner, section] of [[ann, sectionA], [bob, sectionB]] as const) {
    const enrolled = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: admin.accessToken, body: { userId: learner.id } });
    const enrollmentId = ((await enrolled.json()) as { id: string }).id;
    expect((await call(app, "PUT", `/v1/courses/${courseId}/enrollments/${enrollmentId}/section`, { token: admin.accessToken, body: { sectionId: section } })).status).toBe(200);
  }
  assessmentId = crypto.randomUUID();
  await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${assessmentId}, ${courseId}, 'Essay, part 1; draft', 'quiz',
    ${JSON.stringify([{ id: "q1", type: "true-false", points: 1, prompt: "" }])}::jsonb, ${dstSunday.plus({ days: 2, hours: 23 }).toUTC().toISO()}::timestamptz)`;
}, 90_000);
afterAll(() => stopAppAndDatabase({ db, app }));

const as = (user: TestUser, extra: { body?: unknown; headers?: Record<string, string> } = {}) => ({ token: user.accessToken, ...extra });
const problemCode = async (res: Response) => ((await res.json()) as { code?: string }).code;
interface Session {
  id: string;
  seriesId: string | null;
  occurrenceDate: string | null;
  detached: boolean;
  title: string;
  startsAt: string;
  status: string;
  location: string | null;
  version: number;
}
const listSessions = async (user: TestUser, query = "") => {
  const res = await call(app, "GET", `/v1/courses/${courseId}/sessions?from=${wide.from}&to=${wide.to}&limit=100${query}`, as(user));
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Session[] }).items;
};
const sessionRows = async () => (await db.sql`select count(*)::int as n from class_sessions where course_id = ${courseId}`)[0]?.n as number;

describe("class schedule", () => {
  it("refuses bad rules and callers with 4xx problems and changes nothing", async () => {
    const post = (user: TestUser, body: unknown) => call(app, "POST", `/v1/courses/${courseId}/session-series`, as(user, { body }));
    const base = { title: "Algebra", sectionId: sectionA, ...rule };
    const { until: _, ...neverEnding } = base;
    expect((await post(instructor, neverEnding)).status).toBe(400);
    const forever = await post(instructor, { ...base, until: dstSunday.plus({ years: 5 }).toISODate() });
    expect([forever.status, await problemCode(forever)]).toEqual([422, "RECURRENCE_TOO_LONG"]);
    const tooMany = await post(instructor, { ...base, weekdays: [1, 2, 3, 4, 5, 6, 7], until: dateAt(120) });
    expect([tooMany.status, await problemCode(tooMany)]).toEqual([422, "RECURRENCE_TOO_LONG"]);
    const zone = await post(instructor, { ...base, timeZone: "Europe/Atlantis" });
    expect([zone.status, await problemCode(zone)]).toEqual([422, "TIME_ZONE_UNKNOWN"]);
    const backwards = await post(instructor, { ...base, until: dateAt(-20) });
    expect([backwards.status, await problemCode(backwards)]).toEqual([422, "RECURRENCE_INVALID"]);
    const notStaff = await post(instructor, { ...base, staffUserId: outsider.id });
    expect([notStaff.status, await problemCode(notStaff)]).toEqual([422, "SCHEDULE_STAFF_NOT_IN_COURSE"]);
    for (const bad of [{ ...base, weekdays: [] }, { ...base, startTime: "25:00" }, { ...base, title: "nul\u0000" }, { ...base, title: "x".repeat(5000) }, { ...base, startsOn: "2026-02-30" }]) {
      expect((await post(instructor, bad)).status).toBe(400);
    }
    expect((await post(grader, base)).status).toBe(403);
    expect((await post(ann, base)).status).toBe(403);
    expect((await call(app, "GET", `/v1/courses/${courseId}/sessions?from=${wide.from}&to=${wide.to}`, as(outsider))).status).toBe(403);
    // Forged cursors that decode but are no position of this list: 400, never a database error.
    for (const position of [["not a date", crypto.randomUUID()], [new Date().toISOString(), "not-a-uuid"], [1, 2]]) {
      const cursor = Buffer.from(JSON.stringify(position)).toString("base64url");
      const forged = await call(app, "GET", `/v1/courses/${courseId}/sessions?from=${wide.from}&to=${wide.to}&cursor=${cursor}`, as(instructor));
      expect([forged.status, await problemCode(forged)]).toEqual([400, "INVALID_CURSOR"]);
    }
    expect(await sessionRows()).toBe(0);
    expect((await db.sql`select count(*)::int as n from session_series`)[0]?.n).toBe(0);
  });

  it("materialises a weekly series that keeps 10:00 Madrid time across the daylight-saving change", async () => {
    const res = await call(app, "POST", `/v1/courses/${courseId}/session-series`, as(instructor, {
      body: { title: "Algebra, unit 1; \"intro\"", sectionId: sectionA, location: "Room 1, Building B; floor 2", staffUserId: instructor.id, ...rule },
    }));
    expect(res.status).toBe(201);
    const series = (await res.json()) as { id: string; occurrences: number; until: string };
    expect(series.occurrences).toBe(7);
    seriesId = series.id;
    const sessions = await listSessions(instructor);
    expect(sessions.map((s) => s.occurrenceDate)).toEqual(expectedDates);
    occurrenceIds = sessions.map((s) => s.id);
    expect(sessions.every((s) => wallClock(s.startsAt) === "10:00")).toBe(true);
    // The UTC time moves by an hour across the change (earlier in autumn-to-winter, later in spring).
    const utcHours = sessions.map((s) => new Date(s.startsAt).getUTCHours());
    expect(new Set(utcHours.slice(0, 3)).size).toBe(1);
    expect(new Set(utcHours.slice(3)).size).toBe(1);
    expect(Math.abs((utcHours[0] as number) - (utcHours[3] as number))).toBe(1);

    // A whole-course one-off and a section B series.
    const oneOff = await call(app, "POST", `/v1/courses/${courseId}/sessions`, as(instructor, { body: { title: "Guest talk", date: dateAt(2), startTime: "15:00", durationMinutes: 60, timeZone: ZONE, onlineUrl: "https://meet.example.test/talk" } }));
    expect(oneOff.status).toBe(201);
    oneOffId = ((await oneOff.json()) as { id: string }).id;
    const b = await call(app, "POST", `/v1/courses/${courseId}/session-series`, as(admin, { body: { title: "Geometry B", sectionId: sectionB, ...rule, weekdays: [2], exceptions: [] } }));
    expect(b.status).toBe(201);
    expect((await listSessions(ann)).map((s) => s.title).filter((t) => t === "Geometry B")).toEqual([]);
    expect((await listSessions(bob)).filter((s) => s.title.startsWith("Algebra"))).toEqual([]);
    expect((await listSessions(grader, `&sectionId=${sectionB}`)).every((s) => s.title === "Geometry B" || s.title === "Guest talk")).toBe(true);
  });

  it("answers each user's schedule: learners their section's and the course's sessions, staff theirs, with due dates", async () => {
    const mine = async (user: TestUser) => {
      const res = await call(app, "GET", `/v1/me/schedule?from=${wide.from}&to=${wide.to}`, as(user));
      expect(res.status).toBe(200);
      return (await res.json()) as { sessions: { sessionId: string; title: string; role: string; timeZone: string; courseTitle: string; sectionId: string | null }[]; dueDates: { assessmentId: string; dueAt: string }[] };
    };
    const annSchedule = await mine(ann);
    expect(annSchedule.sessions.map((s) => s.sessionId).sort()).toEqual([...occurrenceIds, oneOffId].sort());
    expect(annSchedule.sessions.every((s) => s.role === "learner" && s.timeZone === ZONE && s.courseTitle.startsWith("Maths"))).toBe(true);
    expect(annSchedule.dueDates.map((d) => d.assessmentId)).toEqual([assessmentId]);
    const bobSchedule = await mine(bob);
    expect(bobSchedule.sessions.filter((s) => s.title.startsWith("Algebra"))).toEqual([]);
    expect(bobSchedule.sessions.some((s) => s.title === "Geometry B")).toBe(true);
    const staff = await mine(instructor);
    expect(staff.sessions.length).toBe(7 + 1 + 4);
    expect(staff.sessions.every((s) => s.role === "staff")).toBe(true);
    expect((await mine(outsider)).sessions).toEqual([]);
    const tooWide = await call(app, "GET", `/v1/me/schedule?from=${wide.from}&to=${dstSunday.plus({ days: 400 }).toUTC().toISO()}`, as(ann));
    expect([tooWide.status, await problemCode(tooWide)]).toEqual([400, "SCHEDULE_RANGE_INVALID"]);
    expect((await call(app, "GET", `/v1/me/schedule?to=${wide.to}`, as(ann))).status).toBe(400);
    expect((await call(app, "GET", `/v1/me/schedule?from=${wide.from}&to=${wide.to}`)).status).toBe(401);
  });

  it("changes one occurrence (it becomes detached), then all following (the series is split)", async () => {
    // Occurrences: 0 Mon, 1 Mon, 2 Wed, 3 Mon (after the change), 4 Wed, 5 Mon, 6 Wed.
    const fifth = occurrenceIds[4] as string;
    const read = await call(app, "GET", `/v1/sessions/${fifth}`, as(ann));
    expect(read.status).toBe(200);
    const etag = read.headers.get("etag") as string;
    expect((await call(app, "GET", `/v1/sessions/${fifth}`, as(bob))).status).toBe(404);
    const moved = await call(app, "PATCH", `/v1/sessions/${fifth}?scope=this`, as(instructor, { body: { startTime: "12:00", location: "Lab" }, headers: { "if-match": etag } }));
    expect(moved.status).toBe(200);
    const movedBody = (await moved.json()) as Session;
    expect([movedBody.detached, movedBody.location, wallClock(movedBody.startsAt), movedBody.version]).toEqual([true, "Lab", "12:00", 2]);
    const stale = await call(app, "PATCH", `/v1/sessions/${fifth}`, as(instructor, { body: { title: "Stale" }, headers: { "if-match": etag } }));
    expect(stale.status).toBe(412);
    expect((await call(app, "PATCH", `/v1/sessions/${fifth}`, as(grader, { body: { title: "Grader" } }))).status).toBe(403);
    const badZone = await call(app, "PATCH", `/v1/sessions/${fifth}`, as(instructor, { body: { timeZone: "Nowhere/Land" } }));
    expect([badZone.status, await problemCode(badZone)]).toEqual([422, "TIME_ZONE_UNKNOWN"]);

    // Approved leave excused Ann at the last Wednesday: a rule change that drops it cancels it instead of deleting it,
    // and her progress is recomputed (attendance.recorded).
    const last = occurrenceIds[6] as string;
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${last}, ${ann.id}, ${courseId}, 'excused', 'leave')`;

    // From the first Wednesday on: Mondays only, at 11:00, renamed.
    const split = await call(app, "PATCH", `/v1/sessions/${occurrenceIds[2]}?scope=following`, as(instructor, { body: { weekdays: [1], startTime: "11:00", title: "Algebra II" } }));
    expect(split.status).toBe(200);
    const shown = (await split.json()) as Session;
    expect(shown.id).toBe(occurrenceIds[3]);
    const after = new Map((await listSessions(instructor, `&sectionId=${sectionA}`)).filter((s) => s.title !== "Guest talk").map((s) => [s.id, s]));
    const at = (i: number) => after.get(occurrenceIds[i] as string);
    expect([at(0)?.seriesId, at(1)?.seriesId, wallClock(at(0)?.startsAt as string), wallClock(at(1)?.startsAt as string)]).toEqual([seriesId, seriesId, "10:00", "10:00"]);
    expect(at(2)).toBeUndefined();
    expect((await call(app, "GET", `/v1/sessions/${occurrenceIds[2]}`, as(instructor))).status).toBe(404);
    const newSeries = at(3)?.seriesId as string;
    expect(newSeries).not.toBe(seriesId);
    for (const i of [3, 5]) expect([at(i)?.seriesId, at(i)?.title, wallClock(at(i)?.startsAt as string), at(i)?.status]).toEqual([newSeries, "Algebra II", "11:00", "scheduled"]);
    expect([at(4)?.seriesId, at(4)?.detached, wallClock(at(4)?.startsAt as string), at(4)?.title]).toEqual([newSeries, true, "12:00", "Algebra, unit 1; \"intro\""]);
    expect([at(6)?.status, at(6)?.seriesId]).toEqual(["cancelled", newSeries]);
    const recorded = await db.sql`select data from outbox where type = 'attendance.recorded' and aggregate_id = ${last}`;
    expect(recorded.map((r) => r.data)).toEqual([{ sessionId: last, courseId, userIds: [ann.id] }]);
    expect(after.size).toBe(6);
    const [old] = await db.sql`select until::text as until from session_series where id = ${seriesId}`;
    expect(old?.until).toBe(dateAt(-5));
  });

  it("cancels all following occurrences with one email per learner expected there, and refuses a second cancel", async () => {
    const cancelled = await call(app, "POST", `/v1/sessions/${occurrenceIds[3]}/cancel`, as(instructor, { body: { scope: "following", reason: "Teacher ill; back soon" } }));
    expect(cancelled.status).toBe(200);
    const items = ((await cancelled.json()) as { items: Session[] }).items;
    // 3, 4 (detached) and 5; 6 was cancelled already.
    expect(items.map((s) => s.id).sort()).toEqual([occurrenceIds[3], occurrenceIds[4], occurrenceIds[5]].sort());
    expect(items.every((s) => s.status === "cancelled")).toBe(true);
    const mail = await waitForMail(app, ann.email, "Maths");
    expect(mail.subject).toContain("(3)");
    expect(mail.text).toContain("Teacher ill; back soon");
    // The free-text reason is read from the rows for the email, never carried by the event (events reach webhooks).
    const events = await db.sql`select data from outbox where type = 'class-session.cancelled'`;
    expect(events.length).toBe(1);
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain("Teacher ill");
    const again = await call(app, "POST", `/v1/sessions/${occurrenceIds[3]}/cancel`, as(instructor, { body: {} }));
    expect([again.status, await problemCode(again)]).toEqual([409, "CLASS_SESSION_CANCELLED"]);
    // The whole-course talk: both learners are told.
    expect((await call(app, "POST", `/v1/sessions/${oneOffId}/cancel`, as(admin, { body: { reason: "Room flooded;\nsee you, soon" } }))).status).toBe(200);
    await waitForMail(app, bob.email, "Maths");
    await waitForMail(app, ann.email, "Maths", { nth: 2 });
    expect((await mailsTo(app, ann.email, "Maths")).length).toBe(2);
    expect((await mailsTo(app, bob.email, "Maths")).length).toBe(1);
  });

  it("serves a secret iCalendar feed that an independent parser reads back, and stops it when revoked", async () => {
    const made = await call(app, "POST", "/v1/me/calendar-feed", as(ann));
    expect(made.status).toBe(201);
    const feed = (await made.json()) as { url: string; token: string };
    expect(feed.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const path = `/v1/calendar/${feed.token}.ics`;
    expect(feed.url.endsWith(path)).toBe(true);
    const stored = await db.sql`select token_hash from calendar_feeds where user_id = ${ann.id}`;
    expect(stored.map((r) => r.token_hash)).not.toContain(feed.token);

    const res = await call(app, "GET", path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/calendar/);
    const calendar = new ICAL.Component(ICAL.parse(await res.text()));
    for (const tz of calendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(tz);
    const events = calendar.getAllSubcomponents("vevent").map((v) => ({ vevent: v, event: new ICAL.Event(v) }));
    // Ann's six section A sessions left (one was deleted), the whole-course talk, and the due date.
    expect(events.length).toBe(6 + 1 + 1);
    const byUid = new Map(events.map((e) => [e.event.uid, e]));
    const first = [...byUid.entries()].find(([uid]) => uid.startsWith(`session-${occurrenceIds[0]}@`))?.[1];
    expect(first).toBeDefined();
    expect(first?.vevent.getFirstProperty("dtstart")?.getParameter("tzid")).toBe(ZONE);
    expect([first?.event.startDate.hour, first?.event.startDate.minute]).toEqual([10, 0]);
    expect(first?.event.summary).toBe("Algebra, unit 1; \"intro\" (Maths, Physics; and \"more\")");
    expect(first?.event.location).toBe("Room 1, Building B; floor 2");
    expect(first?.event.startDate.toJSDate().toISOString()).toBe((await listSessions(ann)).find((s) => s.id === occurrenceIds[0])?.startsAt.replace(/\.\d+Z$/, ".000Z"));
    const afterChange = events.find((e) => e.event.uid.startsWith(`session-${occurrenceIds[3]}@`));
    expect(afterChange?.vevent.getFirstPropertyValue("status")).toBe("CANCELLED");
    expect([afterChange?.event.startDate.hour, afterChange?.event.sequence]).toEqual([11, 2]);
    const talk = events.find((e) => e.event.uid.startsWith(`session-${oneOffId}@`));
    expect(talk?.vevent.getFirstPropertyValue("status")).toBe("CANCELLED");
    // A newline, a comma and a semicolon in the reason come back as written.
    expect(talk?.event.description).toBe("https://meet.example.test/talk\nCancelled: Room flooded;\nsee you, soon");
    expect([talk?.vevent.getFirstProperty("dtstart")?.getParameter("tzid"), talk?.event.startDate.hour]).toEqual([ZONE, 15]);
    const due = events.find((e) => e.event.uid.startsWith(`due-${assessmentId}@`));
    expect(due?.event.summary).toBe("Due: Essay, part 1; draft (Maths, Physics; and \"more\")");
    expect(due?.event.startDate.toJSDate().toISOString()).toBe(dstSunday.plus({ days: 2, hours: 23 }).toUTC().toISO({ suppressMilliseconds: false }));
    expect(events.some((e) => e.event.summary.startsWith("Geometry"))).toBe(false);
    // Every event has a DTSTAMP.
    expect(events.every((e) => e.vevent.getFirstPropertyValue("dtstamp") !== null)).toBe(true);

    // A new URL replaces the old; revoking ends it; unknown and forged tokens are not found.
    const second = (await (await call(app, "POST", "/v1/me/calendar-feed", as(ann))).json()) as { token: string };
    expect((await call(app, "GET", path)).status).toBe(404);
    expect((await call(app, "GET", `/v1/calendar/${second.token}.ics`)).status).toBe(200);
    expect((await call(app, "GET", `/v1/calendar/${"A".repeat(43)}.ics`)).status).toBe(404);
    expect((await call(app, "GET", "/v1/me/calendar-feed", as(ann))).status).toBe(200);
    expect((await call(app, "DELETE", "/v1/me/calendar-feed", as(ann))).status).toBe(204);
    expect((await call(app, "GET", `/v1/calendar/${second.token}.ics`)).status).toBe(404);
    const none = await call(app, "DELETE", "/v1/me/calendar-feed", as(ann));
    expect([none.status, await problemCode(none)]).toEqual([404, "CALENDAR_FEED_NOT_FOUND"]);

    // Two creates racing: both answer, one feed stays live, and only the later token works.
    const raced = await Promise.all([0, 1].map(async () => (await (await call(app, "POST", "/v1/me/calendar-feed", as(outsider))).json()) as { token: string }));
    expect((await db.sql`select count(*)::int as n from calendar_feeds where user_id = ${outsider.id} and revoked_at is null`)[0]?.n).toBe(1);
    const working = await Promise.all(raced.map(async (f) => (await call(app, "GET", `/v1/calendar/${f.token}.ics`)).status));
    expect(working.sort()).toEqual([200, 404]);
    const audited = await db.sql`select action from audit_log where target_id = ${ann.id} and action like 'calendar-feed.%' order by occurred_at`;
    expect(audited.map((r) => r.action)).toEqual(["calendar-feed.created", "calendar-feed.created", "calendar-feed.revoked"]);

    // A deactivated account's feed stops too.
    const bobs = (await (await call(app, "POST", "/v1/me/calendar-feed", as(bob))).json()) as { token: string };
    expect((await call(app, "GET", `/v1/calendar/${bobs.token}.ics`)).status).toBe(200);
    expect((await call(app, "POST", `/v1/users/${bob.id}/deactivate`, as(admin, { body: {} }))).status).toBe(200);
    expect((await call(app, "GET", `/v1/calendar/${bobs.token}.ics`)).status).toBe(404);
  });

  it("deletes a session scheduled by mistake unless attendance was taken", async () => {
    const marked = await call(app, "DELETE", `/v1/sessions/${occurrenceIds[6]}`, as(instructor));
    expect([marked.status, await problemCode(marked)]).toEqual([409, "CLASS_SESSION_HAS_ATTENDANCE"]);
    expect((await call(app, "DELETE", `/v1/sessions/${occurrenceIds[0]}`, as(instructor))).status).toBe(204);
    const [series] = await db.sql`select exceptions::text[] as exceptions from session_series where id = ${seriesId}`;
    expect(series?.exceptions).toContain(dateAt(-13));
  });
});

describe("section-scoped staff", () => {
  it("lets an instructor scoped to section B schedule and change only section B's sessions", async () => {
    const scoped = await signUp(app, db, { label: "scoped" });
    expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { body: { userId: scoped.id, role: "instructor" } }))).status).toBe(200);
    expect((await call(app, "PUT", `/v1/courses/${courseId}/staff/${scoped.id}/sections`, as(admin, { body: { sectionIds: [sectionB] } }))).status).toBe(200);
    const oneOff = (sectionId: string | null) => ({ title: "Lab", sectionId, date: dateAt(5), startTime: "09:00", durationMinutes: 45, timeZone: ZONE });
    for (const sectionId of [sectionA, null]) {
      const refused = await call(app, "POST", `/v1/courses/${courseId}/sessions`, as(scoped, { body: oneOff(sectionId) }));
      expect([refused.status, await problemCode(refused)]).toEqual([403, "SECTION_OUT_OF_SCOPE"]);
    }
    expect((await call(app, "POST", `/v1/courses/${courseId}/sessions`, as(scoped, { body: oneOff(sectionB) }))).status).toBe(201);
    const change = await call(app, "PATCH", `/v1/sessions/${occurrenceIds[1]}`, as(scoped, { body: { title: "Not mine" } }));
    expect([change.status, await problemCode(change)]).toEqual([403, "SECTION_OUT_OF_SCOPE"]);
    // They see the whole course's sessions and their section's, not section A's.
    const seen = await listSessions(scoped);
    expect(seen.some((s) => s.title === "Guest talk")).toBe(true);
    expect(seen.some((s) => s.title.startsWith("Algebra"))).toBe(false);
    const other = await call(app, "GET", `/v1/courses/${courseId}/sessions?from=${wide.from}&to=${wide.to}&sectionId=${sectionA}`, as(scoped));
    expect([other.status, await problemCode(other)]).toEqual([403, "SECTION_OUT_OF_SCOPE"]);
  });
});

describe("changing all following from a detached occurrence", () => {
  it("makes that occurrence follow the new rule again", async () => {
    const made = await call(app, "POST", `/v1/courses/${courseId}/session-series`, as(admin, { body: { title: "Seminar", sectionId: sectionB, ...rule, weekdays: [4], startsOn: dateAt(-10), until: dateAt(12), exceptions: [] } }));
    expect(made.status).toBe(201);
    const id = ((await made.json()) as { id: string }).id;
    const rows = async () => (await listSessions(admin, `&sectionId=${sectionB}`)).filter((s) => s.seriesId === id || s.title === "Seminar II");
    const [first, second, third] = await rows();
    expect((await call(app, "PATCH", `/v1/sessions/${second?.id}`, as(admin, { body: { startTime: "12:00" } }))).status).toBe(200);
    const res = await call(app, "PATCH", `/v1/sessions/${second?.id}?scope=following`, as(admin, { body: { startTime: "09:00", title: "Seminar II" } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: second?.id, detached: false, title: "Seminar II" });
    const after = new Map((await rows()).map((s) => [s.id, s]));
    expect([wallClock(after.get(first?.id as string)?.startsAt as string), after.get(first?.id as string)?.title]).toEqual(["10:00", "Seminar"]);
    for (const s of [second, third]) expect([wallClock(after.get(s?.id as string)?.startsAt as string), after.get(s?.id as string)?.detached]).toEqual(["09:00", false]);
  });
});

describe("sessions that took place", () => {
  it("keeps the time of a session where attendance was taken, and leaves started occurrences out of following changes and cancels", async () => {
    const today = DateTime.now().setZone(ZONE).startOf("day");
    const day = (n: number) => today.plus({ days: n }).toISODate() as string;
    const made = await call(app, "POST", `/v1/courses/${courseId}/session-series`, as(admin, {
      body: { title: "Daily", sectionId: sectionB, weekdays: [1, 2, 3, 4, 5, 6, 7], startTime: "10:00", durationMinutes: 60, timeZone: ZONE, startsOn: day(-3), until: day(3), exceptions: [day(0)] },
    }));
    expect(made.status).toBe(201);
    const id = ((await made.json()) as { id: string }).id;
    const rows = async () => {
      const res = await call(app, "GET", `/v1/courses/${courseId}/sessions?from=${today.minus({ days: 7 }).toUTC().toISO()}&to=${today.plus({ days: 7 }).toUTC().toISO()}&sectionId=${sectionB}&limit=100`, as(admin));
      return ((await res.json()) as { items: Session[] }).items.filter((s) => s.title.startsWith("Daily"));
    };
    const [taken, past, started, next] = await rows();
    expect([taken?.occurrenceDate, past?.occurrenceDate, started?.occurrenceDate, next?.occurrenceDate, (await rows()).length]).toEqual([day(-3), day(-2), day(-1), day(1), 6]);
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${taken?.id as string}, ${bob.id}, ${courseId}, 'present', 'staff')`;
    const before = await rows();

    // Attendance was taken: its time does not move (this or following) and it is not cancelled; its title may change.
    for (const res of [
      await call(app, "PATCH", `/v1/sessions/${taken?.id}`, as(instructor, { body: { startTime: "11:00" } })),
      await call(app, "PATCH", `/v1/sessions/${taken?.id}?scope=following`, as(instructor, { body: { startTime: "11:00" } })),
      await call(app, "POST", `/v1/sessions/${taken?.id}/cancel`, as(instructor, { body: { reason: "late" } })),
      await call(app, "POST", `/v1/sessions/${taken?.id}/cancel`, as(instructor, { body: { scope: "following" } })),
    ]) expect([res.status, await problemCode(res)]).toEqual([409, "CLASS_SESSION_HAS_ATTENDANCE"]);
    expect(await rows()).toEqual(before);
    expect((await db.sql`select until::text as until from session_series where id = ${id}`)[0]?.until).toBe(day(3));
    const renamed = await call(app, "PATCH", `/v1/sessions/${taken?.id}`, as(instructor, { body: { title: "Daily (taken)", location: "Room 9" } }));
    expect([renamed.status, ((await renamed.json()) as Session).startsAt]).toEqual([200, taken?.startsAt]);

    // Following from a past occurrence without marks: it moves, the later started one stays, the ones to come move.
    const moved = await call(app, "PATCH", `/v1/sessions/${past?.id}?scope=following`, as(instructor, { body: { startTime: "08:00" } }));
    expect(moved.status).toBe(200);
    const after = new Map((await rows()).map((s) => [s.id, s]));
    expect(wallClock(after.get(past?.id as string)?.startsAt as string)).toBe("08:00");
    expect(after.get(started?.id as string)?.startsAt).toBe(started?.startsAt);
    expect(wallClock(after.get(next?.id as string)?.startsAt as string)).toBe("08:00");

    // Cancelling following from the past occurrence: it and the ones to come, not the started one in between.
    const cancelled = await call(app, "POST", `/v1/sessions/${past?.id}/cancel`, as(instructor, { body: { scope: "following" } }));
    expect(cancelled.status).toBe(200);
    const ids = ((await cancelled.json()) as { items: Session[] }).items.map((s) => s.id);
    expect(ids).toContain(past?.id);
    expect(ids).toContain(next?.id);
    expect(ids).not.toContain(started?.id);
    expect(ids).toHaveLength(4);
  });
});
