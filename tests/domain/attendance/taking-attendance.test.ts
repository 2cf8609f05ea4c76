import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { attendanceRates, ratePercentOf, sessionAttendanceRates } from "../../../domain/attendance/attendance-rate.js";
import { changedMarks, checkInClosesAt, checkInStatus, editWindowClosed, editWindowEndsAt, withinCheckInTimes } from "../../../domain/attendance/attendance-rules.js";
import { checkIn } from "../../../domain/attendance/check-in.js";
import { takeAttendance } from "../../../domain/attendance/take-attendance.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import { personalDataPart } from "../../../domain/privacy/personal-data.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

const at = (iso: string) => new Date(iso);
const session = { startsAt: at("2026-03-02T09:00:00Z"), endsAt: at("2026-03-02T10:00:00Z") };

describe("the edit window", () => {
  it("closes editWindowHours after the session ends", () => {
    expect(editWindowEndsAt(session, 72)).toEqual(at("2026-03-05T10:00:00Z"));
    expect(editWindowClosed(session, 72, at("2026-03-05T10:00:00Z"))).toBe(false);
    expect(editWindowClosed(session, 72, at("2026-03-05T10:00:01Z"))).toBe(true);
    expect(editWindowClosed(session, 0, at("2026-03-02T10:00:01Z"))).toBe(true);
  });
});

describe("check-in times", () => {
  it("opens 15 minutes before the start and ends with the session", () => {
    expect(withinCheckInTimes(session, at("2026-03-02T08:44:59Z"))).toBe(false);
    expect(withinCheckInTimes(session, at("2026-03-02T08:45:00Z"))).toBe(true);
    expect(withinCheckInTimes(session, at("2026-03-02T09:59:59Z"))).toBe(true);
    expect(withinCheckInTimes(session, at("2026-03-02T10:00:00Z"))).toBe(false);
  });

  it("marks present until lateAfterMinutes past the start, late after", () => {
    expect(checkInStatus(session, at("2026-03-02T08:50:00Z"), 10)).toBe("present");
    expect(checkInStatus(session, at("2026-03-02T09:10:00Z"), 10)).toBe("present");
    expect(checkInStatus(session, at("2026-03-02T09:10:01Z"), 10)).toBe("late");
    expect(checkInStatus(session, at("2026-03-02T09:00:01Z"), 0)).toBe("late");
  });

  it("never stays open past the session's end", () => {
    expect(checkInClosesAt(session, null)).toEqual(session.endsAt);
    expect(checkInClosesAt(session, at("2026-03-02T09:20:00Z"))).toEqual(at("2026-03-02T09:20:00Z"));
    expect(checkInClosesAt(session, at("2026-03-02T12:00:00Z"))).toEqual(session.endsAt);
  });
});

describe("changedMarks", () => {
  it("keeps new marks and those whose status or note differ", () => {
    const stored = [
      { userId: "a", status: "present" as const, note: null, leaveApplicationId: null },
      { userId: "b", status: "excused" as const, note: null, leaveApplicationId: "leave-1" },
      { userId: "c", status: "absent" as const, note: "ill", leaveApplicationId: null },
    ];
    const changes = changedMarks(stored, [
      { userId: "a", status: "present", note: null },
      { userId: "b", status: "absent", note: null },
      { userId: "c", status: "absent", note: null },
      { userId: "d", status: "late", note: null },
    ]);
    expect(changes.map((c) => [c.mark.userId, c.before?.status ?? null])).toEqual([
      ["b", "excused"],
      ["c", "absent"],
      ["d", null],
    ]);
  });
});

describe("ratePercentOf", () => {
  it("counts present and late as attended and ignores excused", () => {
    expect(ratePercentOf({ present: 1, late: 1, absent: 1 })).toBe(66.67);
    expect(ratePercentOf({ present: 0, late: 0, absent: 0 })).toBeNull();
    expect(ratePercentOf({ present: 0, late: 0, absent: 2 })).toBe(0);
  });
});

describe("marks in the database", () => {
  let db: TestDatabase;
  let ctx: DomainContext;
  let courseId: string;
  beforeAll(async () => {
    ({ db, ctx } = await openDomainDatabase());
    courseId = await createCourse(db);
  });
  afterAll(() => db?.drop());

  async function learner(name: string): Promise<string> {
    const id = uuidv7();
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`${name}-${id}@example.test`}, ${name})`;
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${id}, 'active', 'self')`;
    return id;
  }
  async function liveSession(): Promise<string> {
    const id = uuidv7();
    await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
      values (${id}, ${courseId}, 'Live', now() - interval '5 minutes', now() + interval '55 minutes', 'UTC')`;
    return id;
  }

  it("takes concurrent bulk requests on one session one after the other, each mark once", async () => {
    const [a, b] = [await learner("Ada"), await learner("Ben")];
    const sessionId = await liveSession();
    const admin = { userId: uuidv7(), isAdmin: true };
    const take = (status: "present" | "absent") =>
      inTransactionOf(db, ctx)((tx) => takeAttendance(tx, { sessionId, viewer: admin, marks: [{ userId: a, status, note: null }, { userId: b, status, note: null }], reason: null }));
    // Three identical requests at once: the session lock makes each read the marks the one before it wrote, so
    // only the first changes anything (without it, each finds no marks and writes both again).
    const results = await Promise.all([take("present"), take("present"), take("present")]);
    expect(results.map((r) => (r.ok ? r.value.changed : -1)).sort()).toEqual([0, 0, 2]);
    const rows = await db.sql<{ status: string; version: number }[]>`select status, version from attendance_marks where session_id = ${sessionId}`;
    expect(rows.map((r) => [r.status, r.version])).toEqual([
      ["present", 1],
      ["present", 1],
    ]);
  });

  it("counts an expected learner left unmarked at an ended session whose attendance was taken as absent", async () => {
    const c = await createCourse(db);
    const people: string[] = [];
    for (const name of ["Fay", "Gus", "Hal"]) {
      const id = uuidv7();
      await db.sql`insert into users (id, email, display_name) values (${id}, ${`${name}-${id}@example.test`}, ${name})`;
      people.push(id);
    }
    const [fay, gus, hal] = people as [string, string, string];
    // Fay and Gus enrolled long ago; Hal joined yesterday, after the first two sessions started.
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values
      (${uuidv7()}, ${c}, ${fay}, 'active', 'self', now() - interval '30 days'),
      (${uuidv7()}, ${c}, ${gus}, 'active', 'self', now() - interval '30 days'),
      (${uuidv7()}, ${c}, ${hal}, 'active', 'self', now() - interval '1 day')`;
    const sessionAt = async (startsAgo: string, endsAgo: string) => {
      const id = uuidv7();
      await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
        values (${id}, ${c}, 'S', now() - ${startsAgo}::interval, now() - ${endsAgo}::interval, 'UTC')`;
      return id;
    };
    const taken = await sessionAt("72 hours", "71 hours");
    const notTaken = await sessionAt("48 hours", "47 hours");
    const running = await sessionAt("10 minutes", "-50 minutes");
    // Only Fay's mark at the first session; nobody's at the second; Fay's at the running one.
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values
      (${taken}, ${fay}, ${c}, 'present', 'staff'), (${running}, ${fay}, ${c}, 'present', 'check-in')`;
    void notTaken;
    const rates = await attendanceRates(db.db, { courseId: c }, new Date());
    // Gus: absent at the taken session; Hal: not expected there (enrolled after it started); the untaken session
    // and the running one (not ended) add no absence.
    expect(rates.get(`${c}:${fay}`)).toMatchObject({ present: 2, absent: 0, ratePercent: 100 });
    expect(rates.get(`${c}:${gus}`)).toMatchObject({ present: 0, absent: 1, ratePercent: 0 });
    expect(rates.has(`${c}:${hal}`)).toBe(false);
    const bySession = await sessionAttendanceRates(db.db, [taken, notTaken, running], null, new Date());
    expect(bySession.get(taken)).toMatchObject({ present: 1, absent: 1, ratePercent: 50 });
    expect(bySession.has(notTaken)).toBe(false);
    expect(bySession.get(running)).toMatchObject({ present: 1, absent: 0, ratePercent: 100 });
  });

  it("refuses a check-in where the course does not let learners check in", async () => {
    const c = await learner("Cy");
    const sessionId = await liveSession();
    const rules = { periodSeconds: 30, lateAfterMinutes: 10 };
    const closed = await inTransactionOf(db, ctx)((tx) => checkIn(tx, { sessionId, userId: c, code: "000000" }, rules));
    expect(closed.ok ? null : closed.error.code).toBe("CHECK_IN_DISABLED");
  });

  it("scrubs the erased learner's name from attendance notes and exports their marks", async () => {
    const d = await learner("Dora Quill");
    const e = await learner("Eve");
    const sessionId = await liveSession();
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source, note) values
      (${sessionId}, ${d}, ${courseId}, 'absent', 'staff', 'Dora Quill was ill'),
      (${sessionId}, ${e}, ${courseId}, 'present', 'staff', 'sat with Dora Quill')`;
    const exported: unknown[] = [];
    for await (const page of (personalDataPart("attendance") as NonNullable<ReturnType<typeof personalDataPart>>).pages({ db: db.db, activity: undefined as never }, d)) exported.push(...page);
    expect(exported).toEqual([expect.objectContaining({ id: sessionId, courseId, status: "absent", note: "Dora Quill was ill", source: "staff" })]);

    await inTransactionOf(db, ctx)((tx) => erasePersonalData(tx, d, testErasureKeys));
    const notes = await db.sql<{ user_id: string; status: string; note: string }[]>`select user_id, status, note from attendance_marks where session_id = ${sessionId} order by note`;
    expect(notes.map((n) => n.note).join(" ")).not.toContain("Dora Quill");
    expect(notes.find((n) => n.user_id === d)?.status).toBe("absent");
  });
});
