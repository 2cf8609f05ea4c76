import { eq, sql } from "drizzle-orm";
import { classSessions, sessionSeries } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { lockForChange, lockForWrite, recordExcusedMoved } from "./change-sessions.js";
import { followingOccurrences } from "./manage-sessions.js";
import type { ScheduleErrorCode } from "./schedule.errors.js";
import { marksAt, sessionColumns, type SessionView, type StaffViewer } from "./session-view.js";

export interface CancelOptions {
  scope: "this" | "following";
  reason: string | null;
  expectedVersion?: number;
}

/**
 * Cancels a session, or (scope `following`) it and every later scheduled occurrence of its series that has not
 * started, detached ones included. A session where attendance was taken is not cancelled (the whole request is
 * refused, CLASS_SESSION_HAS_ATTENDANCE): it took place. Cancelled rows are kept (struck out in schedules and feeds,
 * counted for nothing by attendance) and the series' rule is left as it is: a later change of the series leaves
 * cancelled occurrences cancelled. One `class-session.cancelled` event names them all, so each learner expected
 * there gets one email per cancel (the reason is read from the rows, not carried by the event: events reach
 * webhooks); learners excused there by approved leave get attendance.recorded, so their progress is recomputed.
 */
export async function cancelSessions(ctx: DomainContext, sessionId: string, options: CancelOptions, writer: StaffViewer): Promise<Result<SessionView[], ScheduleErrorCode>> {
  const locked = await lockForChange(ctx, sessionId, writer, options.expectedVersion);
  if (!locked.ok) return locked;
  const session = locked.value;
  const now = ctx.now();
  const ids =
    options.scope === "following" && session.seriesId && session.occurrenceDate
      ? (await followingOccurrences(ctx.db, session.seriesId, session.occurrenceDate)).filter((r) => r.status === "scheduled" && (r.id === session.id || r.startsAt > now)).map((r) => r.id)
      : [session.id];
  const marks = await marksAt(ctx.db, ids);
  if (marks.taken.size > 0) return fail("CLASS_SESSION_HAS_ATTENDANCE", "Attendance was taken at this session (or a later one of the series): it took place and is not cancelled.");
  const cancelled = await ctx.db
    .update(classSessions)
    .set({ status: "cancelled", cancelledAt: now, cancelReason: options.reason, version: sql`${classSessions.version} + 1`, updatedAt: now })
    .where(sql`${classSessions.id} = any(${sql.param(ids)}::uuid[])`)
    .returning(sessionColumns);
  cancelled.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  await recordExcusedMoved(ctx, session.courseId, marks.excused);
  await recordEvent(ctx, {
    type: "class-session.cancelled",
    aggregateType: "class-session",
    aggregateId: session.id,
    courseId: session.courseId,
    data: { courseId: session.courseId, sessionIds: cancelled.map((s) => s.id), cancelledAt: now.toISOString() },
  });
  return ok(cancelled);
}

/**
 * Deletes a session scheduled by mistake (nobody is emailed: cancel tells learners). One with attendance marks is
 * refused: cancel it instead. A series occurrence's date becomes an exception of its series, so no later change
 * of the series makes it again.
 */
export async function deleteSession(ctx: DomainContext, sessionId: string, writer: StaffViewer, expectedVersion?: number): Promise<Result<null, ScheduleErrorCode>> {
  const locked = await lockForWrite(ctx, sessionId, writer, expectedVersion);
  if (!locked.ok) return locked;
  const session = locked.value;
  // Any mark at all, a leave excusal's included, keeps the session.
  const marks = await marksAt(ctx.db, [session.id]);
  if (marks.taken.has(session.id) || marks.excused.has(session.id)) return fail("CLASS_SESSION_HAS_ATTENDANCE", "Attendance was taken at this session: cancel it instead.");
  if (session.seriesId && session.occurrenceDate) {
    await ctx.db
      .update(sessionSeries)
      .set({
        exceptions: sql`(select array_agg(distinct d order by d) from unnest(array_append(${sessionSeries.exceptions}, ${session.occurrenceDate}::date)) as d)`,
        version: sql`${sessionSeries.version} + 1`,
        updatedAt: ctx.now(),
      })
      .where(eq(sessionSeries.id, session.seriesId));
  }
  await ctx.db.delete(classSessions).where(eq(classSessions.id, session.id));
  return ok(null);
}
