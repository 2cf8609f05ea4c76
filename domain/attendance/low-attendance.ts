import { and, asc, eq, inArray, isNotNull, isNull, lt, ne, or, sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { attendanceAlerts, attendancePolicies, courses } from "../db/schema/index.js";
import { type BatchEvent, recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { attendanceRates } from "./attendance-rate.js";

/** The alert period of a moment: its ISO week in UTC, e.g. "2026-W49" (the week-numbering year, not the calendar one). */
export function isoWeekPeriod(at: Date): string {
  return DateTime.fromJSDate(at, { zone: "utc" }).toFormat("kkkk-'W'WW");
}

/** A learner to alert: the rate is below the threshold (a null rate, nothing counted yet, is no alert). */
export function isBelowThreshold(ratePercent: number | null, thresholdPercent: number): boolean {
  return ratePercent !== null && ratePercent < thresholdPercent;
}

export interface LowAttendanceOptions {
  /** Courses whose rates one transaction computes (their learners' rates are held in memory at once). */
  coursesPerBatch?: number;
  /** Stop starting batches after this long, so a large school does not run past the function's timeout. */
  budgetMs?: number;
}

export interface LowAttendanceRun {
  period: string;
  courses: number;
  alerted: number;
  /** False when the budget ran out first: a later firing in the same week picks up the rest (alerts already sent are skipped). */
  complete: boolean;
}

/**
 * Alerts every active learner whose attendance rate in a course with a low-attendance threshold is below it, once
 * per (course, learner, ISO week): the `attendance_alerts` row is the record, so a second firing (or a second host)
 * sends nothing twice. Each alert is an `attendance.low` event (the learner and the course's instructors who see
 * the learner's section are emailed through the event's fan-out). Courses go in batches, each in its own
 * transaction, the least recently checked first (`alerts_checked_at`, set to the run's start with the batch): a run
 * cut short by its budget is continued by the next firing rather than restarted from the same courses, whatever the
 * week. `ctx.db` must be the pool (this opens the transactions).
 */
export async function sendLowAttendanceAlerts(ctx: DomainContext, options: LowAttendanceOptions = {}): Promise<LowAttendanceRun> {
  const started = ctx.now();
  const period = isoWeekPeriod(started);
  const batchSize = options.coursesPerBatch ?? 25;
  const budgetMs = options.budgetMs ?? 4 * 60_000;
  const run: LowAttendanceRun = { period, courses: 0, alerted: 0, complete: true };
  for (;;) {
    if (ctx.now().getTime() - started.getTime() > budgetMs) {
      run.complete = false;
      return run;
    }
    const done = await ctx.db.transaction(async (tx) => {
      // Courses this run has checked carry its start; `skip locked` leaves a batch another host is on to that host.
      const batch: { courseId: string; threshold: number }[] = await tx
        .select({ courseId: attendancePolicies.courseId, threshold: sql<number>`${attendancePolicies.lowThresholdPercent}` })
        .from(attendancePolicies)
        .innerJoin(courses, eq(courses.id, attendancePolicies.courseId))
        .where(
          and(
            isNotNull(attendancePolicies.lowThresholdPercent),
            ne(courses.status, "archived"),
            or(isNull(attendancePolicies.alertsCheckedAt), lt(attendancePolicies.alertsCheckedAt, started)),
          ),
        )
        .orderBy(sql`${attendancePolicies.alertsCheckedAt} asc nulls first`, asc(attendancePolicies.courseId))
        .limit(batchSize)
        .for("update", { of: attendancePolicies, skipLocked: true });
      if (batch.length === 0) return true;
      run.courses += batch.length;
      run.alerted += await alertBatch({ ...ctx, db: tx }, batch, period, started);
      await tx
        .update(attendancePolicies)
        .set({ alertsCheckedAt: started })
        .where(inArray(attendancePolicies.courseId, batch.map((c) => c.courseId)));
      return batch.length < batchSize;
    });
    if (done) return run;
  }
}

async function alertBatch(ctx: DomainContext, batch: { courseId: string; threshold: number }[], period: string, asOf: Date): Promise<number> {
  const thresholds = new Map(batch.map((c) => [c.courseId, c.threshold]));
  const rates = await attendanceRates(ctx.db, { courseIds: [...thresholds.keys()] }, asOf);
  const below = [...rates.values()].filter((r) => isBelowThreshold(r.ratePercent, thresholds.get(r.courseId) ?? 0));
  if (below.length === 0) return 0;
  // One statement: only learners still active in the course, and only (course, learner, period) not alerted yet.
  const inserted = await ctx.db.execute<{ course_id: string; user_id: string; rate_percent: number }>(sql`
    insert into ${attendanceAlerts} (course_id, user_id, period, rate_percent, sent_at)
    select v.course_id, v.user_id, ${period}, v.rate_percent, ${ctx.now().toISOString()}::timestamptz
    from unnest(${sql.param(below.map((r) => r.courseId))}::uuid[], ${sql.param(below.map((r) => r.userId))}::uuid[], ${sql.param(below.map((r) => r.ratePercent))}::real[])
      as v(course_id, user_id, rate_percent)
    where exists (select 1 from enrollments e where e.course_id = v.course_id and e.user_id = v.user_id and e.status = 'active')
    on conflict do nothing
    returning course_id, user_id, rate_percent`);
  // The event carries the rate as computed (the column is a float4, so reading it back would blur the decimals).
  const rateOf = new Map(below.map((r) => [`${r.courseId}:${r.userId}`, r.ratePercent ?? 0]));
  const events: BatchEvent<"attendance.low">[] = inserted.map((row) => ({
    type: "attendance.low",
    aggregateType: "course",
    aggregateId: row.course_id,
    courseId: row.course_id,
    data: { courseId: row.course_id, userId: row.user_id, ratePercent: rateOf.get(`${row.course_id}:${row.user_id}`) ?? Number(row.rate_percent), thresholdPercent: thresholds.get(row.course_id) ?? 0, period },
  }));
  await recordEvents(ctx, events);
  return events.length;
}
