import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { applyApprovedLeave } from "../../../domain/leave/approved-leave.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { insertUser } from "../../support/privacy-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A learner in a course with one past session they were marked absent at, and an approved leave over it. */
async function fixture(options: { extends: boolean; dueInDays: number }) {
  const now = Date.now();
  const userId = await insertUser(db);
  const courseId = uuidv7();
  const sessionId = uuidv7();
  const assessmentId = uuidv7();
  const applicationId = uuidv7();
  const leave = { id: applicationId, applicantUserId: userId, startsAt: new Date(now - 2 * DAY), endsAt: new Date(now + 2 * DAY) };
  await db.sql`insert into courses (id, title) values (${courseId}, 'Botany')`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self')`;
  await db.sql`insert into class_sessions (id, course_id, title, starts_at, ends_at, time_zone) values (${sessionId}, ${courseId}, 'Lab', ${iso(now - DAY)}::timestamptz, ${iso(now - DAY + 3_600_000)}::timestamptz, 'UTC')`;
  await db.sql`insert into attendance_marks (session_id, user_id, course_id, status, source) values (${sessionId}, ${userId}, ${courseId}, 'absent', 'staff')`;
  await db.sql`insert into attendance_policies (course_id, leave_extends_due_dates) values (${courseId}, ${options.extends})`;
  await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${assessmentId}, ${courseId}, 'Quiz', 'quiz', '[]'::jsonb, ${iso(now + options.dueInDays * DAY)}::timestamptz)`;
  await db.sql`insert into leave_applications (id, applicant_user_id, applicant_kind, starts_at, ends_at, reason, status, decision_comment, document_blob, document_file_name, document_content_type, document_size_bytes, instance_id)
    values (${applicationId}, ${userId}, 'learner', ${leave.startsAt.toISOString()}::timestamptz, ${leave.endsAt.toISOString()}::timestamptz, 'Surgery', 'approved', 'Get well', ${`leave/${userId}/${applicationId}/document`}, 'note.pdf', 'application/pdf', 10, ${`leave-${applicationId}`})`;
  await db.sql`insert into leave_courses (application_id, course_id) values (${applicationId}, ${courseId})`;
  return { userId, sessionId, assessmentId, leave, dueAt: now + options.dueInDays * DAY };
}

const extensionMs = async (assessmentId: string, userId: string) =>
  (await db.sql<{ ms: number }[]>`select (extract(epoch from due_at) * 1000)::float8 as ms from assessment_extensions where assessment_id = ${assessmentId} and user_id = ${userId}`)[0]?.ms;

it("excuses a mark once: applied again, it keeps the status the mark had before the leave", async () => {
  const f = await fixture({ extends: false, dueInDays: 1 });
  expect(await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, f.leave))).toEqual({ sessionsExcused: 1, extensions: 0 });
  await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, f.leave));
  expect(await db.sql`select status, source, status_before_leave, leave_application_id from attendance_marks where user_id = ${f.userId}`).toEqual([
    { status: "excused", source: "leave", status_before_leave: "absent", leave_application_id: f.leave.id },
  ]);
  // The course did not opt in: no due date moves.
  expect(await extensionMs(f.assessmentId, f.userId)).toBeUndefined();
});

it("records attendance.recorded for each excused session, so the learner's progress is recomputed", async () => {
  const f = await fixture({ extends: false, dueInDays: 1 });
  await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, f.leave));
  expect(await db.sql`select aggregate_id, data from outbox where type = 'attendance.recorded' and aggregate_id = ${f.sessionId}`).toEqual([
    { aggregate_id: f.sessionId, data: { sessionId: f.sessionId, courseId: expect.any(String), userIds: [f.userId] } },
  ]);
});

it("moves a due date inside the leave by the leave's length, never shortening a longer extension", async () => {
  const f = await fixture({ extends: true, dueInDays: 1 });
  await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, f.leave));
  expect(await extensionMs(f.assessmentId, f.userId)).toBe(f.dueAt + 4 * DAY);

  const g = await fixture({ extends: true, dueInDays: 1 });
  const longer = g.dueAt + 30 * DAY;
  await db.sql`insert into assessment_extensions (assessment_id, user_id, due_at) values (${g.assessmentId}, ${g.userId}, ${iso(longer)}::timestamptz)`;
  await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, g.leave));
  expect(await extensionMs(g.assessmentId, g.userId)).toBe(longer);

  // Due after the leave ends: untouched.
  const h = await fixture({ extends: true, dueInDays: 5 });
  await inTransactionOf(db, ctx)((tx) => applyApprovedLeave(tx, h.leave));
  expect(await extensionMs(h.assessmentId, h.userId)).toBeUndefined();
});

it("erasure keeps an application's dates and outcome and blanks its reason, comment and document", async () => {
  const f = await fixture({ extends: false, dueInDays: 1 });
  await inTransactionOf(db, ctx)((tx) => erasePersonalData(tx, f.userId, testErasureKeys));
  expect(await db.sql`select status, reason, decision_comment, document_blob, document_file_name from leave_applications where id = ${f.leave.id}`).toEqual([
    { status: "approved", reason: "[erased]", decision_comment: null, document_blob: null, document_file_name: null },
  ]);
});
