import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { attendancePolicies, enrollments } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { type BatchEvent, recordEvents } from "../outbox/record-events.js";
import { courseExists } from "../identity/caller.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export interface AttendancePolicy {
  courseId: string;
  selfCheckIn: boolean;
  editWindowHours: number;
  lowThresholdPercent: number | null;
  gradeCategory: string | null;
  minRateForCompletion: number | null;
  leaveExtendsDueDates: boolean;
  version: number;
}

export type AttendancePolicySettings = Omit<AttendancePolicy, "courseId" | "version">;

/** What a course without a policy row uses (the table's column defaults). */
export const defaultAttendancePolicy: AttendancePolicySettings = {
  selfCheckIn: false,
  editWindowHours: 72,
  lowThresholdPercent: null,
  gradeCategory: null,
  minRateForCompletion: null,
  leaveExtendsDueDates: false,
};

const columns = {
  courseId: attendancePolicies.courseId,
  selfCheckIn: attendancePolicies.selfCheckIn,
  editWindowHours: attendancePolicies.editWindowHours,
  lowThresholdPercent: attendancePolicies.lowThresholdPercent,
  gradeCategory: attendancePolicies.gradeCategory,
  minRateForCompletion: attendancePolicies.minRateForCompletion,
  leaveExtendsDueDates: attendancePolicies.leaveExtendsDueDates,
  version: attendancePolicies.version,
};

/** The policies of these courses in one query; a course without a row gets the defaults (version 0). */
export async function attendancePoliciesOf(db: Executor, courseIds: readonly string[]): Promise<Map<string, AttendancePolicy>> {
  const rows = courseIds.length ? await db.select(columns).from(attendancePolicies).where(inArray(attendancePolicies.courseId, [...courseIds])) : [];
  const found = new Map(rows.map((r) => [r.courseId, r]));
  return new Map(courseIds.map((courseId) => [courseId, found.get(courseId) ?? { courseId, ...defaultAttendancePolicy, version: 0 }]));
}

export async function attendancePolicyOf(db: Executor, courseId: string): Promise<AttendancePolicy> {
  return (await attendancePoliciesOf(db, [courseId])).get(courseId) as AttendancePolicy;
}

/** Learners per attendance.policy-changed event (the catalog's maximum). */
const RECOMPUTE_BATCH = 1000;

/**
 * A change of what counts (the grade category, the minimum rate for completion) recomputes every active learner's
 * progress: one event per RECOMPUTE_BATCH learners, all written in one insert, which the progress subscription
 * handles like attendance.recorded.
 */
async function recomputeLearners(ctx: DomainContext, courseId: string): Promise<void> {
  const learners = await ctx.db
    .select({ userId: enrollments.userId })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "active")))
    .orderBy(enrollments.userId);
  const events: BatchEvent<"attendance.policy-changed">[] = [];
  for (let i = 0; i < learners.length; i += RECOMPUTE_BATCH) {
    const userIds = learners.slice(i, i + RECOMPUTE_BATCH).map((l) => l.userId);
    events.push({ type: "attendance.policy-changed", aggregateType: "course", aggregateId: courseId, courseId, data: { courseId, userIds } });
  }
  await recordEvents(ctx, events);
}

/**
 * Replaces the course's policy (omitted settings take their defaults). Audited with what changed; a change of the
 * grade category or the completion minimum recomputes the learners' progress. `gradeCategory` may name a category
 * the gradebook has not configured: like an assessment's category, it then shares the weight left over.
 */
export async function setAttendancePolicy(ctx: DomainContext, courseId: string, settings: AttendancePolicySettings): Promise<Result<AttendancePolicy, "COURSE_NOT_FOUND">> {
  if (!(await courseExists(ctx.db, courseId))) return fail("COURSE_NOT_FOUND");
  const before = await attendancePolicyOf(ctx.db, courseId);
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(attendancePolicies)
    .values({ courseId, ...settings, updatedAt: now })
    .onConflictDoUpdate({ target: attendancePolicies.courseId, set: { ...settings, version: sql`${attendancePolicies.version} + 1`, updatedAt: now } })
    .returning(columns);
  const policy = row as AttendancePolicy;
  const changed = (Object.keys(settings) as (keyof AttendancePolicySettings)[]).filter((k) => before[k] !== settings[k]);
  if (changed.includes("gradeCategory") || changed.includes("minRateForCompletion")) await recomputeLearners(ctx, courseId);
  if (changed.length > 0) {
    await recordAudit(ctx, {
      action: "attendance.policy-changed",
      targetType: "course",
      targetId: courseId,
      details: { changed: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: settings[k] }])) },
    });
  }
  return ok(policy);
}
