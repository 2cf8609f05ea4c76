import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepEmailId } from "../../domain/leave/leave-emails.js";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { fireDurableTimers } from "../support/durable.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { expectProblem } from "../support/problems.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction } from "../support/timers.js";

// Leave applications over HTTP against the local runtime (one app start): apply with a document, escalation through
// the runtime's timer admin API and an approval that excuses existing absences and extends a due date, a withdrawal,
// who may decide (and who may not), refusals that change nothing, two racing decisions, and the leave-resume timer.

const HOUR = 3_600_000;
// Over six days: durable-functions splits the escalation timer into 3-day pieces, so every application here waits on
// a long timer, and the decisions made while waiting cancel one (its pending piece must not matter).
const ESCALATION_HOURS = 150;
// LEAVE_DECISION_HOURS's default.
const DECISION_HOURS = 168;
const DAY = 24 * HOUR;

let db: TestDatabase;
let app: RunningApp;
let learner: TestUser;
let otherLearner: TestUser;
let instructor: TestUser;
let coInstructor: TestUser;
let grader: TestUser;
let otherInstructor: TestUser;
let sectionInstructor: TestUser;
let busyLearner: TestUser;
let admin: TestUser;
let courseId: string;
let otherCourseId: string;
const now = Date.now();
const sessions = { first: uuidv7(), second: uuidv7(), later: uuidv7(), otherCourse: uuidv7() };
const assessmentId = uuidv7();
const dueAt = new Date(now + 12 * HOUR);

interface Application {
  id: string;
  status: string;
  instanceId: string;
  document: { fileName: string; uploaded: boolean } | null;
  decisionComment: string | null;
}
interface ApplicationView extends Application {
  approverIds: string[];
  canDecide: boolean;
  documentUrl: string | null;
  orchestration: { runtimeStatus: string | null; customStatus: { stage: string; status?: string } | null };
}

const at = (ms: number) => new Date(ms).toISOString();
const apply = (user: TestUser, body: Record<string, unknown>) => call(app, "POST", "/v1/leave-applications", { token: user.accessToken, body });
const view = async (user: TestUser, id: string) => (await (await call(app, "GET", `/v1/leave-applications/${id}`, { token: user.accessToken })).json()) as ApplicationView;
const decide = (user: TestUser, id: string, decision: "approve" | "reject", comment?: string) =>
  call(app, "POST", `/v1/leave-applications/${id}/decision`, { token: user.accessToken, body: { decision, ...(comment ? { comment } : {}) } });

async function applied(user: TestUser, body: Record<string, unknown>): Promise<{ application: Application; upload: { url: string; headers: Record<string, string> } | null }> {
  const res = await apply(user, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { application: Application; upload: { url: string; headers: Record<string, string> } | null };
}

const stage = (id: string, wanted: string, runtimeStatus?: string, as = learner) =>
  waitFor(
    `leave ${id} at stage ${wanted}`,
    async () => {
      const v = await view(as, id);
      return v.orchestration.customStatus?.stage === wanted && (!runtimeStatus || v.orchestration.runtimeStatus === runtimeStatus) ? v : undefined;
    },
    { timeoutMs: 20_000, diagnostics: () => recentErrors(app) },
  );

const decidedEvents = async (id: string) =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from outbox where type = 'leave.decided' and aggregate_id = ${id}`)[0]?.n;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, LEAVE_ESCALATION_HOURS: String(ESCALATION_HOURS) } });
  [learner, otherLearner, instructor, coInstructor, grader, otherInstructor, sectionInstructor, busyLearner, admin] = await Promise.all([
    signUp(app, db, { label: "leave-learner" }),
    signUp(app, db, { label: "other-learner" }),
    signUp(app, db, { label: "leave-instructor" }),
    signUp(app, db, { label: "co-instructor" }),
    signUp(app, db, { label: "leave-grader" }),
    signUp(app, db, { label: "other-instructor" }),
    signUp(app, db, { label: "section-instructor" }),
    signUp(app, db, { label: "busy-learner" }),
    signUp(app, db, { label: "leave-admin", admin: true }),
  ]);
  courseId = await createCourse(db, [
    { userId: instructor.id, role: "instructor" },
    { userId: coInstructor.id, role: "instructor" },
    { userId: grader.id, role: "grader" },
    { userId: sectionInstructor.id, role: "instructor" },
  ]);
  // The section instructor teaches only a section the learners are not in.
  const sectionId = uuidv7();
  await db.sql`insert into sections (id, course_id, name) values (${sectionId}, ${courseId}, 'Evening')`;
  await db.sql`insert into course_staff_sections (course_id, user_id, section_id) values (${courseId}, ${sectionInstructor.id}, ${sectionId})`;
  // Another course, taught by someone else; the busy learner takes both.
  otherCourseId = await createCourse(db, [{ userId: otherInstructor.id, role: "instructor" }]);
  for (const [u, c] of [
    [learner, courseId],
    [otherLearner, courseId],
    [busyLearner, courseId],
    [busyLearner, otherCourseId],
  ] as const) {
    await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${c}, ${u.id}, 'active', 'staff', now())`;
  }
  await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone)
    values (${sessions.otherCourse}, ${otherCourseId}, 'Seminar', ${at(now - DAY)}::timestamptz, ${at(now - DAY + HOUR)}::timestamptz, 'UTC')`;
  // Two past sessions the learner was marked absent at, and one later in the leave without a mark.
  for (const [id, startsAt] of [
    [sessions.first, now - 2 * DAY],
    [sessions.second, now - DAY],
    [sessions.later, now + 2 * HOUR],
  ] as const) {
    await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone) values (${id}, ${courseId}, 'Lecture', ${at(startsAt)}::timestamptz, ${at(startsAt + HOUR)}::timestamptz, 'UTC')`;
  }
  for (const sessionId of [sessions.first, sessions.second]) {
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source, marked_by_user_id) values (${sessionId}, ${learner.id}, ${courseId}, 'absent', 'staff', ${instructor.id})`;
  }
  for (const [sessionId, c] of [
    [sessions.first, courseId],
    [sessions.otherCourse, otherCourseId],
  ] as const) {
    await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source, marked_by_user_id) values (${sessionId}, ${busyLearner.id}, ${c}, 'absent', 'staff', ${admin.id})`;
  }
  await db.sql`insert into attendance_policies (course_id, leave_extends_due_dates) values (${courseId}, true)`;
  await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${assessmentId}, ${courseId}, 'Essay', 'quiz', '[]'::jsonb, ${dueAt.toISOString()}::timestamptz)`;
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("a leave application approved after escalation", () => {
  let application: Application;
  const startsAt = now - 3 * DAY;
  const endsAt = now + DAY;
  const document = Buffer.from("%PDF-1.4 doctor's note\n");

  it("applies with a document, confirms its upload and emails the approvers", async () => {
    const created = await applied(learner, {
      startsAt: at(startsAt),
      endsAt: at(endsAt),
      reason: "Flu",
      document: { fileName: "note.pdf", contentType: "application/pdf", sizeBytes: document.length },
    });
    application = created.application;
    expect(application).toMatchObject({ status: "pending", instanceId: `leave-${application.id}`, document: { fileName: "note.pdf", uploaded: false } });
    expect((await call(app, "POST", `/v1/leave-applications/${application.id}/document`, { token: learner.accessToken })).status).toBe(409);
    const upload = created.upload as { url: string; headers: Record<string, string> };
    expect((await fetch(upload.url, { method: "PUT", headers: upload.headers, body: document })).status).toBe(201);
    const confirmed = await call(app, "POST", `/v1/leave-applications/${application.id}/document`, { token: learner.accessToken });
    expect(confirmed.status).toBe(200);
    expect(((await confirmed.json()) as Application).document?.uploaded).toBe(true);

    const seen = await stage(application.id, "waiting", "Running");
    // Instructors of the course in scope; not the grader, not the instructor of another section.
    expect(seen.approverIds.sort()).toEqual([instructor.id, coInstructor.id].sort());
    expect(Buffer.from(await (await fetch(seen.documentUrl as string)).arrayBuffer())).toEqual(document);
    expect((await view(instructor, application.id)).canDecide).toBe(true);
    await expectProblem(await call(app, "GET", `/v1/leave-applications/${application.id}`, { token: otherLearner.accessToken }), 404, "LEAVE_NOT_FOUND");
    const mail = await waitForMail(app, instructor.email, "leave-learner asks for leave");
    expect(mail.text).toContain(`/leave-applications/${application.id}`);
    expect(mail.text).not.toContain("Flu");
    await waitForMail(app, coInstructor.email, "leave-learner asks for leave");
    const toDecide = (await (await call(app, "GET", "/v1/leave-applications", { token: instructor.accessToken })).json()) as { items: Application[] };
    expect(toDecide.items.map((a) => a.id)).toContain(application.id);
  });

  it("refuses an administrator's decision before the escalation, and hides the application from staff who are not approvers", async () => {
    await expectProblem(await decide(admin, application.id, "approve"), 409, "LEAVE_NOT_APPROVER");
    for (const outsider of [grader, sectionInstructor, otherInstructor, otherLearner]) {
      await expectProblem(await decide(outsider, application.id, "approve"), 404, "LEAVE_NOT_FOUND");
      await expectProblem(await call(app, "GET", `/v1/leave-applications/${application.id}`, { token: outsider.accessToken }), 404, "LEAVE_NOT_FOUND");
    }
    expect((await view(learner, application.id)).status).toBe("pending");
    expect(await decidedEvents(application.id)).toBe(0);
  });

  it("escalates when the (long, split) escalation timer fires, and emails the administrators", async () => {
    const fired = await fireDurableTimers(app, application.instanceId, ESCALATION_HOURS + 1);
    expect(fired.length).toBeGreaterThan(0);
    // The row is read before the orchestration's status: wait until both say so.
    await waitFor("the application escalated", async () => {
      const v = await view(learner, application.id);
      return v.status === "escalated" && v.orchestration.customStatus?.stage === "escalated" ? v : undefined;
    });
    await waitForMail(app, admin.email, "Leave of leave-learner waits for a decision");
    const adminList = (await (await call(app, "GET", "/v1/leave-applications?status=escalated", { token: admin.accessToken })).json()) as { items: Application[] };
    expect(adminList.items.map((a) => a.id)).toContain(application.id);
  });

  it("lets an administrator approve it: absences excused, the later session excused, the due date extended", async () => {
    const res = await decide(admin, application.id, "approve", "Get well soon");
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ status: "approved", decisionComment: "Get well soon" });

    const marks = await db.sql<{ session_id: string; status: string; source: string; leave_application_id: string; status_before_leave: string | null }[]>`
      select session_id, status, source, leave_application_id, status_before_leave from attendance_marks where user_id = ${learner.id} order by session_id`;
    expect(marks).toEqual(
      [
        { session_id: sessions.first, status: "excused", source: "leave", leave_application_id: application.id, status_before_leave: "absent" },
        { session_id: sessions.second, status: "excused", source: "leave", leave_application_id: application.id, status_before_leave: "absent" },
        { session_id: sessions.later, status: "excused", source: "leave", leave_application_id: application.id, status_before_leave: null },
      ].sort((a, b) => a.session_id.localeCompare(b.session_id)),
    );
    const [extension] = await db.sql<{ due_ms: number }[]>`select (extract(epoch from due_at) * 1000)::float8 as due_ms from assessment_extensions where assessment_id = ${assessmentId} and user_id = ${learner.id}`;
    expect(extension?.due_ms).toBe(dueAt.getTime() + (endsAt - startsAt));

    const mail = await waitForMail(app, learner.email, "Your leave from");
    expect(mail.subject).toContain("was approved");
    expect(mail.text).toContain("Get well soon");
    const done = await stage(application.id, "done", "Completed");
    expect(done.orchestration.customStatus).toEqual({ stage: "done", status: "approved" });
    expect(await decidedEvents(application.id)).toBe(1);
    await expectProblem(await decide(instructor, application.id, "reject"), 409, "LEAVE_NOT_OPEN");
  });
});

describe("who decides leave that touches several courses", () => {
  it("sends it to the administrators when no instructor teaches every course, and an approval excuses both", async () => {
    const { application } = await applied(busyLearner, { startsAt: at(now - 2 * DAY - HOUR), endsAt: at(now - DAY + 2 * HOUR), reason: "Surgery" });
    const seen = await stage(application.id, "waiting", "Running", busyLearner);
    expect(seen.approverIds.sort()).toEqual([admin.id].sort());
    // The instructor of one course neither reads nor decides it: their decision would reach the other course.
    await expectProblem(await decide(instructor, application.id, "approve"), 404, "LEAVE_NOT_FOUND");
    await expectProblem(await decide(otherInstructor, application.id, "approve"), 404, "LEAVE_NOT_FOUND");
    const marks = async () =>
      (await db.sql<{ session_id: string; status: string }[]>`select session_id, status from attendance_marks where user_id = ${busyLearner.id} order by session_id`).map((m) => m.status);
    expect(await marks()).toEqual(["absent", "absent"]);
    const res = await decide(admin, application.id, "approve");
    expect(res.status, await res.clone().text()).toBe(200);
    // Both marked absences and the unmarked session of the first course between them.
    expect(await marks()).toEqual(["excused", "excused", "excused"]);
    await stage(application.id, "done", "Completed", busyLearner);
  });

  it("takes the right away from an approver removed from the course after the apply", async () => {
    const { application } = await applied(otherLearner, { startsAt: at(now + 70 * DAY), endsAt: at(now + 71 * DAY), reason: "Move" });
    expect((await stage(application.id, "waiting", "Running", otherLearner)).approverIds.sort()).toEqual([instructor.id, coInstructor.id].sort());
    await db.sql`update course_staff set role = 'grader' where course_id = ${courseId} and user_id = ${coInstructor.id}`;
    try {
      await expectProblem(await decide(coInstructor, application.id, "approve"), 404, "LEAVE_NOT_FOUND");
      expect((await view(otherLearner, application.id)).approverIds).toEqual([instructor.id]);
      const list = (await (await call(app, "GET", "/v1/leave-applications", { token: coInstructor.accessToken })).json()) as { items: Application[] };
      expect(list.items.map((a) => a.id)).not.toContain(application.id);
    } finally {
      await db.sql`update course_staff set role = 'instructor' where course_id = ${courseId} and user_id = ${coInstructor.id}`;
    }
    expect((await decide(instructor, application.id, "reject")).status).toBe(200);
    await stage(application.id, "done", "Completed", otherLearner);
  });
});

describe("a withdrawn application", () => {
  it("ends its orchestration, tells the approvers, and no approver can decide it (or attach a document to it) afterwards", async () => {
    const document = Buffer.from("late note");
    const { application, upload } = await applied(learner, {
      startsAt: at(now + 10 * DAY),
      endsAt: at(now + 11 * DAY),
      reason: "Family",
      document: { fileName: "note.txt", contentType: "text/plain", sizeBytes: document.length },
    });
    await stage(application.id, "waiting");
    await expectProblem(await call(app, "POST", `/v1/leave-applications/${application.id}/withdraw`, { token: instructor.accessToken }), 403, "FORBIDDEN");
    const res = await call(app, "POST", `/v1/leave-applications/${application.id}/withdraw`, { token: learner.accessToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "withdrawn" });
    await expectProblem(await decide(instructor, application.id, "approve"), 409, "LEAVE_NOT_OPEN");
    await expectProblem(await call(app, "POST", `/v1/leave-applications/${application.id}/withdraw`, { token: learner.accessToken }), 409, "LEAVE_NOT_OPEN");
    const put = upload as { url: string; headers: Record<string, string> };
    expect((await fetch(put.url, { method: "PUT", headers: put.headers, body: document })).status).toBe(201);
    await expectProblem(await call(app, "POST", `/v1/leave-applications/${application.id}/document`, { token: learner.accessToken }), 409, "LEAVE_NOT_OPEN");
    expect((await view(learner, application.id)).document?.uploaded).toBe(false);
    const done = await stage(application.id, "done", "Completed");
    expect(done.orchestration.customStatus).toEqual({ stage: "done", status: "withdrawn" });
    await waitForMail(app, instructor.email, "leave-learner withdrew their leave application");
    const mine = (await (await call(app, "GET", "/v1/me/leave-applications?limit=1", { token: learner.accessToken })).json()) as { items: Application[]; nextCursor: string | null };
    expect(mine.items.map((a) => a.id)).toEqual([application.id]);
    expect(mine.nextCursor).not.toBeNull();
  });
});

describe("an application nobody decides", () => {
  it("escalates, then expires at the final deadline and tells the applicant, once", async () => {
    const { application } = await applied(learner, { startsAt: at(now + 60 * DAY), endsAt: at(now + 61 * DAY), reason: "Conference" });
    await stage(application.id, "waiting");
    expect((await fireDurableTimers(app, application.instanceId, ESCALATION_HOURS + 1)).length).toBeGreaterThan(0);
    await stage(application.id, "escalated");
    // The instance's clock is ESCALATION_HOURS + 1 ahead already; this moves it past the final deadline.
    expect(await fireDurableTimers(app, application.instanceId, DECISION_HOURS - ESCALATION_HOURS)).toHaveLength(1);
    const done = await stage(application.id, "done", "Completed");
    expect(done).toMatchObject({ status: "expired", orchestration: { customStatus: { stage: "done", status: "expired" } } });
    await waitForMail(app, learner.email, "Your leave application from");
    const [event] = await db.sql<{ outcome: string }[]>`select data->>'outcome' as outcome from outbox where type = 'leave.decided' and aggregate_id = ${application.id}`;
    expect(event?.outcome).toBe("expired");
    expect(await decidedEvents(application.id)).toBe(1);
    await expectProblem(await decide(admin, application.id, "approve"), 409, "LEAVE_NOT_OPEN");
  });
});

describe("bad input and races", () => {
  let pending: Application;

  it("refuses overlaps, ranges too far back or too long, empty ranges and NUL characters, changing nothing", async () => {
    pending = (await applied(learner, { startsAt: at(now + 20 * DAY), endsAt: at(now + 21 * DAY), reason: "Trip" })).application;
    const count = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from leave_applications`)[0]?.n;
    const before = await count();
    const overlap = await expectProblem(await apply(learner, { startsAt: at(now + 20 * DAY + HOUR), endsAt: at(now + 22 * DAY), reason: "Again" }), 409, "LEAVE_OVERLAP");
    expect(overlap.applicationId).toBe(pending.id);
    // The approved leave counts too.
    await expectProblem(await apply(learner, { startsAt: at(now), endsAt: at(now + HOUR), reason: "Again" }), 409, "LEAVE_OVERLAP");
    await expectProblem(await apply(learner, { startsAt: at(now - 8 * DAY), endsAt: at(now - 7.5 * DAY), reason: "Old" }), 422, "LEAVE_TOO_FAR_IN_PAST");
    await expectProblem(await apply(learner, { startsAt: at(now + 40 * DAY), endsAt: at(now + 131 * DAY), reason: "Long" }), 422, "LEAVE_TOO_LONG");
    await expectProblem(await apply(learner, { startsAt: at(now + 40 * DAY), endsAt: at(now + 40 * DAY), reason: "Empty" }), 422, "LEAVE_RANGE_INVALID");
    await expectProblem(await apply(learner, { startsAt: at(now + 40 * DAY), endsAt: at(now + 41 * DAY), reason: "a\u0000b" }), 400, "VALIDATION_FAILED");
    await expectProblem(await apply(learner, { kind: "staff", startsAt: at(now + 40 * DAY), endsAt: at(now + 41 * DAY), reason: "Staff?" }), 403, "LEAVE_NOT_STAFF");
    expect(await count()).toBe(before);
  });

  it("refuses a decision by someone who is not an approver, changing nothing", async () => {
    await expectProblem(await decide(otherLearner, pending.id, "reject"), 404, "LEAVE_NOT_FOUND");
    await expectProblem(await decide(learner, pending.id, "approve"), 409, "LEAVE_NOT_APPROVER");
    const v = await view(learner, pending.id);
    expect(v.status).toBe("pending");
    expect(await decidedEvents(pending.id)).toBe(0);
  });

  it("does not end on a forged LeaveDecided: the orchestration reads the row, which is still pending", async () => {
    await stage(pending.id, "waiting");
    const raised = await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/${pending.instanceId}/raiseEvent/LeaveDecided`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "approved", by: admin.id }),
    });
    expect(raised.status).toBeLessThan(300);
    // Once the instance has handled it (it read the row again, or it ended), it is waiting again, not done.
    await waitFor("the forged event handled", async () => {
      const res = await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/${pending.instanceId}?showHistory=true`);
      const history = ((await res.json()) as { historyEvents: { EventType: string }[] }).historyEvents.map((e) => e.EventType);
      const handledIt = history.includes("EventRaised") && (history.filter((t) => t === "TaskCompleted").length >= 2 || history.includes("ExecutionCompleted"));
      return handledIt ? history : undefined;
    });
    const handled = await view(learner, pending.id);
    expect(handled.orchestration).toMatchObject({ runtimeStatus: "Running", customStatus: { stage: "waiting" } });
    expect(handled.status).toBe("pending");
    expect((await view(instructor, pending.id)).canDecide).toBe(true);
  });

  it("lets exactly one of two racing decisions win; the cancelled long timer's later pieces change nothing", async () => {
    await stage(pending.id, "waiting");
    const answers = await Promise.all([decide(instructor, pending.id, "approve"), decide(coInstructor, pending.id, "reject")]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const done = await stage(pending.id, "done", "Completed");
    // The escalation timer (> 6 days) was split into 3-day pieces and cancelled by the decision: the instance still
    // completed, and nothing of it stays armed (the local runtime drops a finished instance's timers; Azure's task hub
    // discards a timer message for a completed instance).
    expect(await fireDurableTimers(app, pending.instanceId, ESCALATION_HOURS + DECISION_HOURS)).toEqual([]);
    const after = await stage(pending.id, "done", "Completed");
    expect(after.orchestration.customStatus).toEqual(done.orchestration.customStatus);
    expect(after.status).toBe(done.status);
    expect(await decidedEvents(pending.id)).toBe(1);
    const [audits] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'leave.decided' and target_id = ${pending.id}`;
    expect(audits?.n).toBe(1);
  });

  it("lets exactly one of two racing overlapping applications through", async () => {
    const answers = await Promise.all([
      apply(otherLearner, { startsAt: at(now + 30 * DAY), endsAt: at(now + 31 * DAY), reason: "One" }),
      apply(otherLearner, { startsAt: at(now + 30.5 * DAY), endsAt: at(now + 32 * DAY), reason: "Two" }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
  });
});

describe("an application whose orchestration start was lost", () => {
  it("gets its orchestration started by the leave-resume timer, which leaves started ones alone", async () => {
    // As if the apply committed and the host stopped before starting the instance.
    const id = uuidv7();
    await db.sql`insert into leave_applications (id, applicant_user_id, applicant_kind, starts_at, ends_at, reason, instance_id, created_at, updated_at)
      values (${id}, ${otherLearner.id}, 'learner', ${at(now + 50 * DAY)}::timestamptz, ${at(now + 51 * DAY)}::timestamptz, 'Stranded', ${`leave-${id}`},
        now() - interval '2 minutes', now() - interval '2 minutes')`;
    await db.sql`insert into leave_approvers (application_id, user_id, course_id) values (${id}, ${instructor.id}, ${courseId})`;
    expect((await view(otherLearner, id)).orchestration.runtimeStatus).toBeNull();
    const runTimer = () => fireFunction(app, "leave-resume");
    expect((await runTimer()).status).toBe(202);
    await stage(id, "waiting", "Running", otherLearner);
    await waitForMail(app, instructor.email, "other-learner asks for leave", { nth: 2 });
    const [row] = await db.sql<{ started: boolean }[]>`select orchestrated_at is not null as started from leave_applications where id = ${id}`;
    expect(row?.started).toBe(true);
    expect((await runTimer()).status).toBe(202);
    const [mails] = await db.sql<{ n: number }[]>`select count(*)::int as n from email_deliveries where event_id = ${stepEmailId(id, "requested")} and recipient = ${instructor.email}`;
    expect(mails?.n).toBe(1);
  });
});

describe("an overdue application whose orchestration is gone", () => {
  it("is resumed by the leave-resume timer (started again, it escalates and expires), and a closed row reads as done", async () => {
    // As if its instance failed after the first step (orchestrated_at set) and the deadlines passed long ago.
    const id = uuidv7();
    await db.sql`insert into leave_applications (id, applicant_user_id, applicant_kind, starts_at, ends_at, reason, instance_id, orchestrated_at, created_at, updated_at)
      values (${id}, ${otherLearner.id}, 'learner', ${at(now + 80 * DAY)}::timestamptz, ${at(now + 81 * DAY)}::timestamptz, 'Stranded', ${`leave-${id}`},
        now() - interval '200 hours', now() - interval '200 hours', now() - interval '200 hours')`;
    await db.sql`insert into leave_approvers (application_id, user_id, course_id) values (${id}, ${instructor.id}, ${courseId})`;
    const runTimer = () => fireFunction(app, "leave-resume");
    expect((await runTimer()).status).toBe(202);
    const done = await stage(id, "done", "Completed", otherLearner);
    expect(done.status).toBe("expired");
    expect(await decidedEvents(id)).toBe(1);

    // A waiting instance terminated by hand, its application overdue: started again under the same id, it expires.
    const terminated = (await applied(otherLearner, { startsAt: at(now + 85 * DAY), endsAt: at(now + 86 * DAY), reason: "Terminated" })).application;
    await stage(terminated.id, "waiting", "Running", otherLearner);
    const terminate = await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/${terminated.instanceId}/terminate?reason=test`, { method: "POST" });
    expect(terminate.status).toBeLessThan(300);
    await stage(terminated.id, "waiting", "Terminated", otherLearner);
    await db.sql`update leave_applications set created_at = now() - interval '200 hours' where id = ${terminated.id}`;
    expect((await runTimer()).status).toBe(202);
    expect((await stage(terminated.id, "done", "Completed", otherLearner)).status).toBe("expired");

    // A decided row whose LeaveDecided never reached an instance: the view says done, not "not started".
    const closed = uuidv7();
    await db.sql`insert into leave_applications (id, applicant_user_id, applicant_kind, starts_at, ends_at, reason, instance_id, status, decided_at, orchestrated_at)
      values (${closed}, ${otherLearner.id}, 'learner', ${at(now + 90 * DAY)}::timestamptz, ${at(now + 91 * DAY)}::timestamptz, 'Closed', ${`leave-${closed}`}, 'approved', now(), now())`;
    expect((await view(otherLearner, closed)).orchestration.customStatus).toEqual({ stage: "done", status: "approved" });
  });
});
