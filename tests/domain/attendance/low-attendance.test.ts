import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { isBelowThreshold, isoWeekPeriod, sendLowAttendanceAlerts } from "../../../domain/attendance/low-attendance.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

describe("isoWeekPeriod", () => {
  it("names the ISO week in UTC, with the week-numbering year across new year", () => {
    expect(isoWeekPeriod(new Date("2026-12-07T07:00:00Z"))).toBe("2026-W50");
    expect(isoWeekPeriod(new Date("2026-12-06T23:59:59Z"))).toBe("2026-W49");
    expect(isoWeekPeriod(new Date("2027-01-01T12:00:00Z"))).toBe("2026-W53");
    expect(isoWeekPeriod(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
  });
});

describe("isBelowThreshold", () => {
  it("is strictly below; a rate with nothing counted is no alert", () => {
    expect(isBelowThreshold(74.99, 75)).toBe(true);
    expect(isBelowThreshold(75, 75)).toBe(false);
    expect(isBelowThreshold(0, 75)).toBe(true);
    expect(isBelowThreshold(null, 75)).toBe(false);
  });
});

describe("sendLowAttendanceAlerts", () => {
  let db: TestDatabase;
  let ctx: DomainContext;
  beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
  afterAll(() => db?.drop());

  async function learner(courseId: string, status = "active"): Promise<string> {
    const id = uuidv7();
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'L')`;
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${id}, ${status}, 'self')`;
    return id;
  }
  async function sessions(courseId: string, count: number, startsInHours = -48): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = uuidv7();
      await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
        values (${id}, ${courseId}, 'S', now() + ${`${startsInHours - i} hours`}::interval, now() + ${`${startsInHours - i + 1} hours`}::interval, 'UTC')`;
      ids.push(id);
    }
    return ids;
  }
  async function mark(sessionIds: string[], courseId: string, userId: string, statuses: string[]): Promise<void> {
    for (const [i, status] of statuses.entries()) {
      await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${sessionIds[i] as string}, ${userId}, ${courseId}, ${status}, 'staff')`;
    }
  }

  it("alerts active learners below their course's threshold once per week, in batches of courses", async () => {
    const [first, second, unset] = [await createCourse(db), await createCourse(db), await createCourse(db)];
    await db.sql`insert into attendance_policies (course_id, low_threshold_percent) values (${first}, 75), (${second}, 50), (${unset}, null)`;
    const s1 = await sessions(first, 4);
    const s2 = await sessions(second, 2);
    const s3 = await sessions(unset, 1);
    const [future] = await sessions(first, 1, 24);
    const low = await learner(first);
    const fine = await learner(first);
    const excusedOnly = await learner(first);
    const dropped = await learner(first, "dropped");
    const lowInSecond = await learner(second);
    const noThreshold = await learner(unset);
    await mark(s1, first, low, ["present", "late", "absent", "absent"]); // 50 %
    await mark(s1, first, fine, ["present", "present", "present", "excused"]); // 100 %
    await mark(s1, first, excusedOnly, ["excused"]); // nothing counts
    await mark(s1, first, dropped, ["absent"]);
    await mark(s2, second, lowInSecond, ["present", "absent", "absent"].slice(0, 2)); // 50 %: not below 50
    await mark(s3, unset, noThreshold, ["absent"]);
    // A session that has not started does not count: the absence there changes nothing.
    await mark([future as string], first, fine, ["absent"]);

    const run = await sendLowAttendanceAlerts(ctx, { coursesPerBatch: 1 });
    expect(run).toMatchObject({ period: isoWeekPeriod(new Date()), alerted: 1, complete: true });
    expect(run.courses).toBeGreaterThanOrEqual(2);
    const events = await db.sql`select data from outbox where type = 'attendance.low'`;
    expect(events.map((e) => e.data)).toEqual([{ courseId: first, userId: low, ratePercent: 50, thresholdPercent: 75, period: run.period }]);

    // A second firing (or a second host) in the same week sends nothing again; a learner who fell below since is alerted.
    await db.sql`update attendance_marks set status = 'absent' where course_id = ${second} and user_id = ${lowInSecond}`;
    const again = await sendLowAttendanceAlerts(ctx, { coursesPerBatch: 2 });
    expect(again.alerted).toBe(1);
    const all = await db.sql`select data->>'userId' as user_id from outbox where type = 'attendance.low' order by occurred_at`;
    expect(all.map((e) => e.user_id)).toEqual([low, lowInSecond]);
    expect(await db.sql`select user_id, period, rate_percent from attendance_alerts order by sent_at`).toHaveLength(2);
  });

  it("continues a run cut short by its budget with the courses it did not reach, least recently checked first", async () => {
    const fresh = [await createCourse(db), await createCourse(db), await createCourse(db)];
    for (const c of fresh) await db.sql`insert into attendance_policies (course_id, low_threshold_percent) values (${c}, 60)`;
    // A clock that moves a second per reading: with no learner to alert, a run reads it once per batch, so a 1.5 s
    // budget lets each run do exactly one batch of one course.
    let t = Date.now();
    const stepping: DomainContext = { ...ctx, now: () => new Date((t += 1000)) };
    const checked = async () => (await db.sql<{ course_id: string }[]>`select course_id from attendance_policies where alerts_checked_at is not null`).map((r) => r.course_id);
    // Earlier courses were checked by the first case's runs: the three unchecked ones come first, one per run.
    for (let i = 1; i <= 3; i++) {
      expect(await sendLowAttendanceAlerts(stepping, { coursesPerBatch: 1, budgetMs: 1500 })).toMatchObject({ courses: 1, complete: false });
      const now = await checked();
      expect(fresh.filter((c) => now.includes(c))).toHaveLength(i);
    }
  });

  it("stops starting batches once the time budget is spent", async () => {
    const run = await sendLowAttendanceAlerts(ctx, { budgetMs: -1 });
    expect(run).toMatchObject({ courses: 0, alerted: 0, complete: false });
  });
});
