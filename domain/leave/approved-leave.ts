import { sql } from "drizzle-orm";
import { assessmentExtensions, attendanceMarks, attendancePolicies, leaveCourses } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import { learnerSessions } from "../schedule/attendees.js";
import type { DomainContext } from "../shared/context.js";

export interface ApprovedLeave {
  id: string;
  applicantUserId: string;
  startsAt: Date;
  endsAt: Date;
}

/**
 * What approving a learner's leave does, in the decision's transaction (so exactly once, and visible before the
 * orchestration hears of it): every session of theirs in the range gets an excused mark from the leave (an existing
 * mark included; its status is kept in status_before_leave), and in courses whose policy says so, their assessments
 * due inside the leave are extended by its length (due + (end - start); the lock, if any, moves with it; never
 * shortening an extension they have). One statement per table. Each excused session records `attendance.recorded`
 * (one insert), which recomputes progress where attendance counts toward completion.
 */
export async function applyApprovedLeave(ctx: DomainContext, leave: ApprovedLeave): Promise<{ sessionsExcused: number; extensions: number }> {
  // Raw statements take instants as ISO text (the driver binds no Date there).
  const stamp = ctx.now().toISOString();
  const sessions = await learnerSessions(ctx.db, leave.applicantUserId, { from: leave.startsAt, to: leave.endsAt });
  let sessionsExcused = 0;
  if (sessions.length > 0) {
    const rows = await ctx.db.execute(sql`
      insert into ${attendanceMarks} (session_id, user_id, course_id, status, source, leave_application_id, status_before_leave, marked_by_user_id, marked_at, updated_at)
      select s.id, ${leave.applicantUserId}::uuid, s.course_id, 'excused', 'leave', ${leave.id}::uuid, null, ${ctx.actor.userId}::uuid, ${stamp}::timestamptz, ${stamp}::timestamptz
      from unnest(${sql.param(sessions.map((s) => s.id))}::uuid[], ${sql.param(sessions.map((s) => s.courseId))}::uuid[]) as s(id, course_id)
      on conflict (session_id, user_id) do update set
        status = 'excused',
        source = 'leave',
        -- a mark this leave excused already keeps the status it had before it
        status_before_leave = case when ${attendanceMarks}.leave_application_id = excluded.leave_application_id then ${attendanceMarks}.status_before_leave else ${attendanceMarks}.status end,
        leave_application_id = excluded.leave_application_id,
        marked_by_user_id = excluded.marked_by_user_id,
        updated_at = excluded.updated_at,
        version = ${attendanceMarks}.version + 1
      returning session_id, course_id`);
    sessionsExcused = rows.length;
    // As for any change of marks (attendance takes, check-ins): the progress subscription recomputes the learner's
    // progress where attendance counts toward completion, so an excused absence can complete a course.
    await recordEvents(
      ctx,
      (rows as unknown as { session_id: string; course_id: string }[]).map((r) => ({
        type: "attendance.recorded" as const,
        aggregateType: "class-session",
        aggregateId: r.session_id,
        courseId: r.course_id,
        data: { sessionId: r.session_id, courseId: r.course_id, userIds: [leave.applicantUserId] },
      })),
    );
  }
  const lengthMs = leave.endsAt.getTime() - leave.startsAt.getTime();
  const extended = await ctx.db.execute(sql`
    insert into ${assessmentExtensions} (assessment_id, user_id, due_at, lock_at, created_at)
    select a.id, ${leave.applicantUserId}::uuid, a.due_at + ${lengthMs} * interval '1 millisecond',
      case when a.lock_at is null then null else greatest(a.lock_at, a.due_at + ${lengthMs} * interval '1 millisecond') end, ${stamp}::timestamptz
    from assessments a
    join ${leaveCourses} lc on lc.course_id = a.course_id and lc.application_id = ${leave.id}
    join ${attendancePolicies} p on p.course_id = a.course_id and p.leave_extends_due_dates
    join enrollments e on e.course_id = a.course_id and e.user_id = ${leave.applicantUserId} and e.status = 'active'
    where a.due_at >= ${leave.startsAt.toISOString()}::timestamptz and a.due_at < ${leave.endsAt.toISOString()}::timestamptz
    on conflict (assessment_id, user_id) do update set
      due_at = greatest(${assessmentExtensions}.due_at, excluded.due_at),
      lock_at = greatest(${assessmentExtensions}.lock_at, excluded.lock_at)
    returning assessment_id`);
  return { sessionsExcused, extensions: extended.length };
}

