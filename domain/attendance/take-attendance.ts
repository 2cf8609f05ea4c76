import { sql } from "drizzle-orm";
import { attendanceMarks } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { StaffViewer } from "../schedule/session-view.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AttendanceErrorCode } from "./attendance.errors.js";
import { attendancePolicyOf } from "./attendance-policy.js";
import { changedMarks, editWindowClosed, type MarkInput } from "./attendance-rules.js";
import { type SessionAttendance, sessionAttendance, storedMarks } from "./session-attendance.js";
import { sessionForStaff } from "./session-scope.js";

export interface TakeAttendanceInput {
  sessionId: string;
  viewer: StaffViewer;
  /** One per learner (the route refuses duplicates). */
  marks: MarkInput[];
  /** Required once the edit window has closed; recorded in the audit entry. */
  reason: string | null;
}

/**
 * Takes or changes attendance at a session in one set-based upsert. Only for a session that has started and is not
 * cancelled, and only for learners the viewer takes attendance for (else nothing changes). Marks that change nothing
 * are left alone; after the edit window a change needs a reason and the request is audited with what changed. A
 * staff mark replaces a check-in or a leave excusal (staff have the last word) and unlinks the leave.
 */
export async function takeAttendance(ctx: DomainContext, input: TakeAttendanceInput): Promise<Result<SessionAttendance & { changed: number }, AttendanceErrorCode>> {
  const found = await sessionForStaff(ctx.db, input.sessionId, input.viewer, true);
  if (!found.ok) return found;
  const { session, learners, scope } = found.value;
  const now = ctx.now();
  if (session.status === "cancelled") return fail("ATTENDANCE_SESSION_CANCELLED", "A cancelled session counts for nothing: it takes no attendance.");
  if (session.startsAt > now) return fail("ATTENDANCE_SESSION_NOT_STARTED", `Attendance can be taken from the session's start, ${session.startsAt.toISOString()}.`);
  const expected = new Set(learners);
  const unexpected = input.marks.map((m) => m.userId).filter((id) => !expected.has(id));
  if (unexpected.length > 0) {
    return fail("ATTENDANCE_NOT_EXPECTED", `Not learners you take attendance for at this session: ${unexpected.join(", ")}.`, { userIds: unexpected });
  }
  const stored = await storedMarks(ctx.db, session.id, input.marks.map((m) => m.userId));
  const changes = changedMarks(stored, input.marks);
  let editWindowHours: number | undefined;
  if (changes.length > 0) {
    const policy = await attendancePolicyOf(ctx.db, session.courseId);
    editWindowHours = policy.editWindowHours;
    const late = editWindowClosed(session, policy.editWindowHours, now);
    if (late && !input.reason) {
      return fail("ATTENDANCE_REASON_REQUIRED", `The edit window closed ${policy.editWindowHours} h after the session ended: send a reason with the change.`);
    }
    await ctx.db
      .insert(attendanceMarks)
      .values(
        changes.map(({ mark }) => ({
          sessionId: session.id,
          userId: mark.userId,
          courseId: session.courseId,
          status: mark.status,
          note: mark.note,
          source: "staff" as const,
          markedByUserId: ctx.actor.userId,
          markedAt: now,
          updatedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: [attendanceMarks.sessionId, attendanceMarks.userId],
        set: {
          status: sql`excluded.status`,
          note: sql`excluded.note`,
          source: sql`excluded.source`,
          leaveApplicationId: null,
          statusBeforeLeave: null,
          markedByUserId: sql`excluded.marked_by_user_id`,
          markedAt: sql`excluded.marked_at`,
          updatedAt: sql`excluded.updated_at`,
          version: sql`${attendanceMarks.version} + 1`,
        },
      });
    if (late) {
      // One entry per request, listing each change; notes stay out of the log (they may name people).
      await recordAudit(ctx, {
        action: "attendance.changed-after-window",
        targetType: "class-session",
        targetId: session.id,
        details: {
          courseId: session.courseId,
          reason: input.reason,
          changes: changes.map(({ mark, before }) => ({ userId: mark.userId, from: before?.status ?? null, to: mark.status, noteChanged: (before?.note ?? null) !== mark.note })),
        },
      });
    }
    await recordEvent(ctx, {
      type: "attendance.recorded",
      aggregateType: "class-session",
      aggregateId: session.id,
      courseId: session.courseId,
      data: { sessionId: session.id, courseId: session.courseId, userIds: changes.map(({ mark }) => mark.userId) },
    });
  }
  return ok({ ...(await sessionAttendance(ctx.db, session, learners, scope, now, editWindowHours === undefined ? {} : { editWindowHours })), changed: changes.length });
}
