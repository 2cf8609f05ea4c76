import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { expectProblem } from "../support/problems.js";
import { waitFor } from "../support/wait-for.js";

// One app for the whole attendance part: taking and editing marks, self check-in, the report, the gradebook
// category and the completion minimum. Sessions are rows in class_sessions (the schedule's routes make them in
// production; here their times are set freely, in the past too).

const PERIOD = 5;
let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let grader: TestUser;
let ann: TestUser;
let bob: TestUser;
let cat: TestUser;
let outsider: TestUser;
let courseId: string;
let sectionA: string;
const session: Record<"old" | "recent" | "live" | "future" | "cancelled", string> = { old: "", recent: "", live: "", future: "", cancelled: "" };

const as = (user: TestUser, body?: unknown, headers?: Record<string, string>) => ({ token: user.accessToken, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
const minutesFromNow = (m: number) => new Date(Date.now() + m * 60_000);

async function insertSession(title: string, startsAt: Date, minutes: number, extra: { sectionId?: string; status?: string } = {}): Promise<string> {
  const id = crypto.randomUUID();
  await db.sql`insert into class_sessions (id, course_id, section_id, title, starts_at, ends_at, time_zone, status)
    values (${id}, ${courseId}, ${extra.sectionId ?? null}, ${title}, ${startsAt.toISOString()}, ${new Date(startsAt.getTime() + minutes * 60_000).toISOString()}, 'Europe/Madrid', ${extra.status ?? "scheduled"})`;
  return id;
}

interface Roster {
  items: { userId: string; status: string; note: string | null; source: string | null }[];
  rate: { present: number; late: number; absent: number; excused: number; ratePercent: number | null };
  changed?: number;
}
const statusOf = (roster: Roster, user: TestUser) => roster.items.find((i) => i.userId === user.id)?.status;
const marksAt = (sessionId: string) => db.sql<{ user_id: string; status: string; source: string }[]>`select user_id, status, source from attendance_marks where session_id = ${sessionId} order by user_id`;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", ATTENDANCE_CODE_PERIOD_SECONDS: String(PERIOD), ATTENDANCE_LATE_AFTER_MINUTES: "10" }));
  [admin, instructor, grader, ann, bob, cat, outsider] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "grader" }),
    signUp(app, db, { label: "ann" }),
    signUp(app, db, { label: "bob" }),
    signUp(app, db, { label: "cat" }),
    signUp(app, db, { label: "outsider" }),
  ]);
  const created = await call(app, "POST", "/v1/courses", as(admin, { title: "Attendance 101" }));
  courseId = ((await created.json()) as { id: string }).id;
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, as(admin))).status).toBe(200);
  for (const [user, role] of [[instructor, "instructor"], [grader, "grader"]] as const) {
    expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { userId: user.id, role }))).status).toBe(200);
  }
  const enrollmentOf: Record<string, string> = {};
  for (const learner of [ann, bob, cat]) {
    const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, as(admin, { userId: learner.id }));
    expect(res.status).toBe(201);
    enrollmentOf[learner.id] = ((await res.json()) as { id: string }).id;
  }
  // Bob is in section A; the grader is scoped to it.
  sectionA = ((await (await call(app, "POST", `/v1/courses/${courseId}/sections`, as(instructor, { name: "A" }))).json()) as { id: string }).id;
  expect((await call(app, "PUT", `/v1/courses/${courseId}/enrollments/${enrollmentOf[bob.id]}/section`, as(instructor, { sectionId: sectionA }))).status).toBe(200);
  expect((await call(app, "PUT", `/v1/courses/${courseId}/staff/${grader.id}/sections`, as(instructor, { sectionIds: [sectionA] }))).status).toBe(200);

  session.old = await insertSession("Week 1", minutesFromNow(-10 * 24 * 60), 60);
  session.recent = await insertSession("Week 2", minutesFromNow(-120), 60);
  session.live = await insertSession("Week 3", minutesFromNow(-5), 60);
  session.future = await insertSession("Week 4", minutesFromNow(24 * 60), 60);
  session.cancelled = await insertSession("Cancelled", minutesFromNow(-30 * 60), 60, { status: "cancelled" });
}, 90_000);
afterAll(() => stopAppAndDatabase({ db, app }));

describe("attendance", () => {
  it("keeps a policy per course: defaults until an instructor sets one; graders read it", async () => {
    const first = await call(app, "GET", `/v1/courses/${courseId}/attendance-policy`, as(grader));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ selfCheckIn: false, editWindowHours: 72, gradeCategory: null, minRateForCompletion: null, version: 0 });
    await expectProblem(await call(app, "PUT", `/v1/courses/${courseId}/attendance-policy`, as(grader, { selfCheckIn: true })), 403, "FORBIDDEN");
    await expectProblem(await call(app, "PUT", `/v1/courses/${courseId}/attendance-policy`, as(instructor, { minRateForCompletion: 150 })), 400, "VALIDATION_FAILED");
    expect((await call(app, "GET", `/v1/courses/${courseId}/attendance-policy`, as(ann))).status).toBe(403);
    const set = await call(app, "PUT", `/v1/courses/${courseId}/attendance-policy`, as(instructor, { selfCheckIn: true, gradeCategory: "Attendance" }));
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ selfCheckIn: true, editWindowHours: 72, gradeCategory: "Attendance", minRateForCompletion: null, version: 1 });
    const [audit] = await db.sql<{ details: { changed: Record<string, unknown> } }[]>`select details from audit_log where action = 'attendance.policy-changed' and target_id = ${courseId}`;
    expect(Object.keys(audit?.details.changed ?? {}).sort()).toEqual(["gradeCategory", "selfCheckIn"]);
  });

  it("refuses attendance for a session that has not started or is cancelled, and changes nothing", async () => {
    const marks = [{ userId: ann.id, status: "present" }];
    await expectProblem(await call(app, "PUT", `/v1/sessions/${session.future}/attendance`, as(instructor, { marks })), 409, "ATTENDANCE_SESSION_NOT_STARTED");
    await expectProblem(await call(app, "PUT", `/v1/sessions/${session.cancelled}/attendance`, as(instructor, { marks })), 409, "ATTENDANCE_SESSION_CANCELLED");
    await expectProblem(await call(app, "PUT", `/v1/sessions/${crypto.randomUUID()}/attendance`, as(admin, { marks })), 404, "NOT_FOUND");
    expect(await db.sql`select 1 from attendance_marks`).toHaveLength(0);
  });

  it("takes a whole session in one request, refusing the lot when one user is not expected there", async () => {
    const refused = await expectProblem(
      await call(app, "PUT", `/v1/sessions/${session.recent}/attendance`, as(instructor, { marks: [{ userId: ann.id, status: "present" }, { userId: outsider.id, status: "absent" }] })),
      422,
      "ATTENDANCE_NOT_EXPECTED",
    );
    expect(refused.userIds).toEqual([outsider.id]);
    expect(await marksAt(session.recent)).toHaveLength(0);
    await expectProblem(
      await call(app, "PUT", `/v1/sessions/${session.recent}/attendance`, as(instructor, { marks: [{ userId: ann.id, status: "present" }, { userId: ann.id, status: "late" }] })),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(await call(app, "PUT", `/v1/sessions/${session.recent}/attendance`, as(instructor, { marks: [{ userId: ann.id, status: "present", note: "nul\u0000" }] })), 400, "VALIDATION_FAILED");

    const before = await call(app, "GET", `/v1/sessions/${session.recent}/attendance`, as(instructor));
    expect(before.status).toBe(200);
    const unmarked = (await before.json()) as Roster;
    expect(unmarked.items.map((i) => i.status)).toEqual(["unmarked", "unmarked", "unmarked"]);

    const taken = await call(
      app,
      "PUT",
      `/v1/sessions/${session.recent}/attendance`,
      as(instructor, { marks: [{ userId: ann.id, status: "present" }, { userId: bob.id, status: "absent" }, { userId: cat.id, status: "late", note: "bus strike" }] }),
    );
    expect(taken.status).toBe(200);
    const roster = (await taken.json()) as Roster;
    expect(roster.changed).toBe(3);
    expect([statusOf(roster, ann), statusOf(roster, bob), statusOf(roster, cat)]).toEqual(["present", "absent", "late"]);
    expect(roster.rate).toEqual({ present: 1, late: 1, absent: 1, excused: 0, ratePercent: 66.67 });

    // Inside the edit window: a change needs no reason and is not audited; sending the same marks changes nothing.
    const edited = (await (await call(app, "PUT", `/v1/sessions/${session.recent}/attendance`, as(instructor, { marks: [{ userId: bob.id, status: "present" }, { userId: ann.id, status: "present" }] }))).json()) as Roster;
    expect([edited.changed, statusOf(edited, bob), edited.rate.ratePercent]).toEqual([1, "present", 100]);
    expect(await db.sql`select 1 from audit_log where action = 'attendance.changed-after-window'`).toHaveLength(0);
  });

  it("after the edit window, takes a change only with a reason, and audits it", async () => {
    const marks = [{ userId: ann.id, status: "present" }, { userId: bob.id, status: "absent" }, { userId: cat.id, status: "absent" }];
    await expectProblem(await call(app, "PUT", `/v1/sessions/${session.old}/attendance`, as(instructor, { marks })), 422, "ATTENDANCE_REASON_REQUIRED");
    expect(await marksAt(session.old)).toHaveLength(0);
    const taken = await call(app, "PUT", `/v1/sessions/${session.old}/attendance`, as(instructor, { marks, reason: "Paper register typed in late" }));
    expect(taken.status).toBe(200);
    const [audit] = await db.sql<{ actor_user_id: string; target_id: string; details: { reason: string; changes: { userId: string; from: string | null; to: string }[] } }[]>`
      select actor_user_id, target_id, details from audit_log where action = 'attendance.changed-after-window'`;
    expect(audit).toMatchObject({ actor_user_id: instructor.id, target_id: session.old, details: { reason: "Paper register typed in late" } });
    expect(audit?.details.changes).toHaveLength(3);
    expect(audit?.details.changes).toContainEqual({ userId: cat.id, from: null, to: "absent", noteChanged: false });
  });

  it("lets a section-scoped grader take attendance for their section's learners only", async () => {
    // Named the lead of this whole-course session, the grader still sees only their section (and its rate).
    await db.sql`update class_sessions set staff_user_id = ${grader.id} where id = ${session.recent}`;
    const roster = (await (await call(app, "GET", `/v1/sessions/${session.recent}/attendance`, as(grader))).json()) as Roster;
    expect(roster.items.map((i) => i.userId)).toEqual([bob.id]);
    expect(roster.rate.present + roster.rate.late + roster.rate.absent + roster.rate.excused).toBeLessThanOrEqual(1);
    const refused = await expectProblem(await call(app, "PUT", `/v1/sessions/${session.recent}/attendance`, as(grader, { marks: [{ userId: ann.id, status: "absent" }] })), 422, "ATTENDANCE_NOT_EXPECTED");
    expect(refused.userIds).toEqual([ann.id]);
    expect((await call(app, "GET", `/v1/sessions/${session.recent}/attendance`, as(ann))).status).toBe(403);
  });

  it("lets learners check in with the rotating code, refusing an expired one and throttling guesses", async () => {
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(ann, { code: "123456" })), 409, "CHECK_IN_CLOSED");
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.future}/check-in`, as(instructor, {})), 409, "CHECK_IN_CLOSED");
    const opened = await call(app, "POST", `/v1/sessions/${session.live}/check-in`, as(instructor, {}));
    expect(opened.status).toBe(200);
    const shown = (await opened.json()) as { code: string; periodSeconds: number; rotatesAt: string; openUntil: string };
    expect(shown.periodSeconds).toBe(PERIOD);
    expect(shown.code).toMatch(/^\d{6}$/);
    const again = (await (await call(app, "GET", `/v1/sessions/${session.live}/check-in`, as(instructor))).json()) as { code: string };
    expect(again.code).toMatch(/^\d{6}$/);

    // A code from three periods ago has expired.
    const [row] = await db.sql<{ check_in_secret: string }[]>`select check_in_secret from class_sessions where id = ${session.live}`;
    const secret = Secret.fromBase32(row?.check_in_secret ?? "");
    const codeAt = (ms: number) => TOTP.generate({ secret, period: PERIOD, digits: 6, algorithm: "SHA1", timestamp: ms });
    // An older code that differs from every code the server could accept around now (six digits can repeat).
    const accepted = [-1, 0, 1].map((k) => codeAt(Date.now() + k * PERIOD * 1000));
    const expired = [3, 4, 5, 6, 7, 8].map((k) => codeAt(Date.now() - k * PERIOD * 1000)).find((c) => !accepted.includes(c));
    expect(expired).toBeDefined();
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(ann, { code: expired })), 422, "CHECK_IN_CODE_INVALID");
    const checkedIn = await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(ann, { code: codeAt(Date.now()) }));
    expect(checkedIn.status).toBe(200);
    expect(await checkedIn.json()).toMatchObject({ userId: ann.id, status: "present" });

    // A staff mark is never overwritten by a check-in.
    expect((await call(app, "PUT", `/v1/sessions/${session.live}/attendance`, as(instructor, { marks: [{ userId: bob.id, status: "absent" }] }))).status).toBe(200);
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(bob, { code: codeAt(Date.now()) })), 409, "CHECK_IN_ALREADY_MARKED");

    // Forty wrong codes at once: only five are checked, the rest refused; then even the right one is refused for a while.
    const wrong = String((Number(codeAt(Date.now())) + 500_000) % 1_000_000).padStart(6, "0");
    const guesses = await Promise.all(Array.from({ length: 40 }, () => call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(cat, { code: wrong }))));
    const codes = await Promise.all(guesses.map(async (r) => ((await r.json()) as { code: string }).code));
    expect(codes.filter((c) => c === "CHECK_IN_CODE_INVALID")).toHaveLength(5);
    expect(codes.filter((c) => c === "CHECK_IN_THROTTLED")).toHaveLength(35);
    const throttled = await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(cat, { code: codeAt(Date.now()) }));
    await expectProblem(throttled, 429, "CHECK_IN_THROTTLED");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(outsider, { code: codeAt(Date.now()) })), 403, "FORBIDDEN");
    await expectProblem(await call(app, "POST", `/v1/sessions/${session.live}/check-in/code`, as(ann, { code: "12ab56" })), 400, "VALIDATION_FAILED");

    expect(await marksAt(session.live)).toEqual(
      [
        { user_id: ann.id, status: "present", source: "check-in" },
        { user_id: bob.id, status: "absent", source: "staff" },
      ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
    expect((await call(app, "DELETE", `/v1/sessions/${session.live}/check-in`, as(instructor))).status).toBe(204);
    await expectProblem(await call(app, "GET", `/v1/sessions/${session.live}/check-in`, as(instructor)), 409, "CHECK_IN_CLOSED");
  });

  it("reports the roster × sessions matrix with rates to staff, in JSON and CSV, and a learner their own row", async () => {
    // ann: present ×3 (100); bob: absent, present, absent (33.33); cat: absent, late (50).
    const res = await call(app, "GET", `/v1/courses/${courseId}/attendance`, as(instructor));
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      sessions: { id: string; rate: { ratePercent: number | null } }[];
      items: { userId: string; cells: Record<string, string | null>; rate: { ratePercent: number | null } }[];
      nextCursor: string | null;
    };
    expect(report.sessions.map((s) => s.id)).toEqual([session.old, session.recent, session.live]);
    expect(report.sessions.map((s) => s.rate.ratePercent)).toEqual([33.33, 100, 50]);
    const rowOf = (u: TestUser) => report.items.find((i) => i.userId === u.id);
    expect(rowOf(ann)?.rate.ratePercent).toBe(100);
    expect(rowOf(bob)?.rate.ratePercent).toBe(33.33);
    expect(rowOf(cat)?.rate.ratePercent).toBe(50);
    expect(rowOf(cat)?.cells).toEqual({ [session.old]: "absent", [session.recent]: "late", [session.live]: "unmarked" });

    const paged = (await (await call(app, "GET", `/v1/courses/${courseId}/attendance?limit=2`, as(instructor))).json()) as { items: unknown[]; nextCursor: string };
    expect(paged.items).toHaveLength(2);
    const rest = (await (await call(app, "GET", `/v1/courses/${courseId}/attendance?limit=2&cursor=${paged.nextCursor}`, as(instructor))).json()) as { items: unknown[]; nextCursor: null };
    expect([rest.items.length, rest.nextCursor]).toEqual([1, null]);

    const ranged = (await (await call(app, "GET", `/v1/courses/${courseId}/attendance?from=${encodeURIComponent(minutesFromNow(-24 * 60).toISOString())}`, as(instructor))).json()) as typeof report;
    expect(ranged.sessions.map((s) => s.id)).toEqual([session.recent, session.live]);
    expect(ranged.items.find((i) => i.userId === bob.id)?.rate.ratePercent).toBe(50);

    const csv = await call(app, "GET", `/v1/courses/${courseId}/attendance`, as(instructor, undefined, { accept: "text/csv" }));
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^userId,displayName,email,Week 1 \(.+\),Week 2 \(.+\),Week 3 \(.+\),present,late,absent,excused,ratePercent$/);
    expect(lines.find((l) => l.startsWith(cat.id))).toBe(`${cat.id},cat,${cat.email},absent,late,unmarked,0,1,1,0,50`);
    expect(lines.at(-1)).toBe(",,session ratePercent,33.33,100,50,,,,,");

    const scoped = (await (await call(app, "GET", `/v1/courses/${courseId}/attendance`, as(grader))).json()) as typeof report;
    expect(scoped.items.map((i) => i.userId)).toEqual([bob.id]);
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/attendance?sectionId=${crypto.randomUUID()}`, as(grader)), 404, "SECTION_NOT_FOUND");

    // Session rates over the learners in view: the grader's section (bob), a learner's own marks only.
    expect(scoped.sessions.map((s) => s.rate.ratePercent)).toEqual([0, 100, 0]);
    const own = (await (await call(app, "GET", `/v1/courses/${courseId}/attendance`, as(cat))).json()) as typeof report;
    expect(own.items.map((i) => i.userId)).toEqual([cat.id]);
    expect(own.items[0]?.rate.ratePercent).toBe(50);
    expect(own.sessions.map((s) => s.rate.ratePercent)).toEqual([0, 100, null]);

    // A forged cursor is refused, not a 500.
    const forged = Buffer.from(JSON.stringify(["not-a-user-id"])).toString("base64url");
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/attendance?cursor=${forged}`, as(instructor)), 400, "INVALID_CURSOR");

    // A range of more sessions than one report covers is refused rather than cut.
    const big = { id: await createCourse(db) };
    await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
      select gen_random_uuid(), ${big.id}, 'Day ' || n, now() - (n || ' days')::interval, now() - (n || ' days')::interval + interval '1 hour', 'UTC' from generate_series(1, 401) n`;
    await expectProblem(await call(app, "GET", `/v1/courses/${big.id}/attendance`, as(admin)), 422, "ATTENDANCE_RANGE_TOO_LARGE");
    const narrowed = await call(app, "GET", `/v1/courses/${big.id}/attendance?from=${encodeURIComponent(minutesFromNow(-30.5 * 24 * 60).toISOString())}`, as(admin));
    expect(((await narrowed.json()) as typeof report).sessions).toHaveLength(30);
    expect((await call(app, "GET", `/v1/courses/${courseId}/attendance`, as(outsider))).status).toBe(403);
  });

  it("counts the attendance rate as a result in the policy's gradebook category", async () => {
    expect((await call(app, "PUT", `/v1/courses/${courseId}/grade-categories`, as(instructor, { categories: [{ name: "Attendance", weightPercent: 20 }] }))).status).toBe(200);
    const book = (await (await call(app, "GET", `/v1/courses/${courseId}/gradebook`, as(instructor))).json()) as {
      attendanceCategory: string;
      items: { userId: string; attendancePercent: number | null; course: { percent: number | null; categories: { name: string; percent: number | null; counted: string[] }[] } }[];
    };
    expect(book.attendanceCategory).toBe("Attendance");
    const bobRow = book.items.find((i) => i.userId === bob.id);
    expect(bobRow?.attendancePercent).toBe(33.33);
    expect(bobRow?.course.categories).toContainEqual(expect.objectContaining({ name: "Attendance", percent: 33.33, counted: ["attendance"] }));
    expect(bobRow?.course.percent).toBe(33.33);
    const csv = await (await call(app, "GET", `/v1/courses/${courseId}/gradebook?format=csv`, as(instructor))).text();
    expect(csv.split("\r\n")[0]).toBe("userId,displayName,email,Attendance (Attendance),coursePercent,inactive");
  });

  it("completes the course only for learners at the minimum rate, once marks change", async () => {
    // From now on the policy asks 60%: ann (100%) completes when her marks change; cat (33.33% then) does not.
    const policy = await call(app, "PUT", `/v1/courses/${courseId}/attendance-policy`, as(instructor, { selfCheckIn: true, gradeCategory: "Attendance", minRateForCompletion: 60 }));
    expect(policy.status).toBe(200);
    const take = await call(app, "PUT", `/v1/sessions/${session.live}/attendance`, as(instructor, { marks: [{ userId: ann.id, status: "present", note: "checked in" }, { userId: cat.id, status: "absent" }] }));
    expect(((await take.json()) as Roster).changed).toBe(2);
    const progressOf = async (user: TestUser) =>
      (await (await call(app, "GET", `/v1/courses/${courseId}/progress`, as(user))).json()) as { complete: boolean; completedAt: string | null; attendance: { ratePercent: number | null; met: boolean } };
    await waitFor("ann's completion recorded", async () => ((await progressOf(ann)).completedAt ? true : undefined), { timeoutMs: 20_000 });
    expect((await progressOf(ann)).attendance).toEqual({ minRatePercent: 60, ratePercent: 100, met: true });
    const cats = await progressOf(cat);
    expect([cats.complete, cats.completedAt, cats.attendance.met, cats.attendance.ratePercent]).toEqual([false, null, false, 33.33]);
    expect((await progressOf(bob)).completedAt).toBeNull();

    // One mark brings bob to 66.67%: the change recomputes his progress and completes the course.
    const edit = await call(app, "PUT", `/v1/sessions/${session.old}/attendance`, as(instructor, { marks: [{ userId: bob.id, status: "present" }], reason: "Was there after all" }));
    expect(edit.status).toBe(200);
    await waitFor("bob's completion recorded", async () => ((await progressOf(bob)).completedAt ? true : undefined), { timeoutMs: 20_000 });
    expect((await progressOf(bob)).attendance.ratePercent).toBe(66.67);
    const [completed] = await db.sql<{ n: number }[]>`select count(*)::int as n from outbox where type = 'course.completed' and course_id = ${courseId}`;
    expect(completed?.n).toBe(2);

    // Lowering the minimum recomputes every learner's progress with no mark changing: cat (33.33%) completes.
    expect((await call(app, "PUT", `/v1/courses/${courseId}/attendance-policy`, as(instructor, { selfCheckIn: true, gradeCategory: "Attendance", minRateForCompletion: 30 }))).status).toBe(200);
    await waitFor("cat's completion recorded", async () => ((await progressOf(cat)).completedAt ? true : undefined), { timeoutMs: 20_000 });
    expect((await progressOf(cat)).attendance).toEqual({ minRatePercent: 30, ratePercent: 33.33, met: true });
  });
});
