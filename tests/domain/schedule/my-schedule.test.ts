import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { staffSessions } from "../../../domain/schedule/attendees.js";
import { scheduleOf } from "../../../domain/schedule/my-schedule.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { insertUser } from "../../support/privacy-fixtures.js";

let db: TestDatabase;
beforeAll(async () => ({ db } = await openDomainDatabase()));
afterAll(() => db?.drop());

const base = Date.parse("2030-01-07T09:00:00Z");
const HOUR = 3_600_000;
const range = { from: new Date(base - 24 * HOUR), to: new Date(base + 400 * 24 * HOUR) };

async function course(status: "published" | "archived" = "published"): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into courses (id, title, status) values (${id}, ${`Course ${id.slice(-4)}`}, ${status})`;
  return id;
}
async function sessions(courseId: string, n: number, extra: { staffUserId?: string } = {}): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uuidv7());
  const rows = ids.map((id, i) => ({
    id,
    course_id: courseId,
    title: `S${i}`,
    starts_at: new Date(base + i * 24 * HOUR).toISOString(),
    ends_at: new Date(base + i * 24 * HOUR + HOUR).toISOString(),
    time_zone: "Europe/Madrid",
    staff_user_id: extra.staffUserId ?? null,
  }));
  await db.sql`insert into class_sessions ${db.sql(rows)}`;
  return ids;
}
const enroll = (courseId: string, userId: string) => db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self')`;

it("cuts the sessions at the limit in the query, earliest first, with the learner and staff roles merged", async () => {
  const user = await insertUser(db);
  const [taught, taken] = [await course(), await course()];
  await db.sql`insert into course_staff (course_id, user_id, role) values (${taught}, ${user}, 'instructor')`;
  await enroll(taken, user);
  const staffIds = await sessions(taught, 30);
  const learnerIds = await sessions(taken, 30);
  const schedule = await scheduleOf(db.db, user, range, 40);
  expect(schedule.truncated).toBe(true);
  expect(schedule.sessions).toHaveLength(40);
  const starts = schedule.sessions.map((s) => s.startsAt.getTime());
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
  expect(new Set(schedule.sessions.map((s) => s.sessionId)).size).toBe(40);
  expect(schedule.sessions.filter((s) => s.role === "staff").every((s) => staffIds.includes(s.sessionId))).toBe(true);
  expect(schedule.sessions.filter((s) => s.role === "learner").every((s) => learnerIds.includes(s.sessionId))).toBe(true);
  // Both roles' first twenty days are in (days 0..19 of each).
  expect(schedule.sessions.filter((s) => s.role === "staff")).toHaveLength(20);
  const whole = await scheduleOf(db.db, user, range, 1000);
  expect([whole.truncated, whole.sessions.length]).toEqual([false, 60]);
  // Learner and staff of one course: listed once, as staff.
  await enroll(taught, user);
  const both = await scheduleOf(db.db, user, range, 1000);
  expect(both.sessions.filter((s) => staffIds.includes(s.sessionId)).map((s) => s.role)).toEqual(Array(30).fill("staff"));
});

it("leaves archived courses out of sessions as it does of due dates", async () => {
  const user = await insertUser(db);
  const [archived, open] = [await course("archived"), await course()];
  for (const c of [archived, open]) await enroll(c, user);
  const [openSession] = await sessions(open, 1);
  await sessions(archived, 3);
  for (const c of [archived, open]) {
    await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${uuidv7()}, ${c}, 'Quiz', 'quiz', '[]'::jsonb, ${new Date(base + 2 * HOUR).toISOString()})`;
  }
  const schedule = await scheduleOf(db.db, user, range, 100);
  expect(schedule.sessions.map((s) => s.sessionId)).toEqual([openSession]);
  expect(schedule.dueDates.map((d) => d.courseId)).toEqual([open]);
});

it("shows a former staff member none of the course's sessions, not even those they still lead", async () => {
  const user = await insertUser(db);
  const c = await course();
  await db.sql`insert into course_staff (course_id, user_id, role) values (${c}, ${user}, 'instructor')`;
  const led = await sessions(c, 2, { staffUserId: user });
  expect((await scheduleOf(db.db, user, range, 100)).sessions.map((s) => s.sessionId)).toEqual(led);
  await db.sql`delete from course_staff where course_id = ${c} and user_id = ${user}`;
  expect((await scheduleOf(db.db, user, range, 100)).sessions).toEqual([]);
  expect(await staffSessions(db.db, user, range)).toEqual([]);
});
