import type { Executor } from "../db/client.js";
import { attendancePoliciesOf } from "../attendance/attendance-policy.js";
import { type AttendanceRates, attendanceRates } from "../attendance/attendance-rate.js";
import type { AssessmentResult } from "./course-grade.js";

/** The id the attendance result goes by in a course grade's categories (`counted`). */
export const ATTENDANCE_RESULT_ID = "attendance";

export interface AttendanceResults {
  /** The gradebook category the course's attendance policy names. */
  category: string;
  /** Learner → attendance rate in percent (null: nothing counted yet, so it does not count). */
  percentOf: Map<string, number | null>;
}

/**
 * Where a course's attendance policy names a grade category, each learner's attendance rate is one result in it
 * (weighted as the category is). Two queries for any number of courses and learners; one when the caller has
 * already read these learners' rates in these courses (`known`, as of `asOf`).
 */
export async function attendanceResults(
  db: Executor,
  courseIds: readonly string[],
  userIds: readonly string[],
  asOf: Date,
  known?: AttendanceRates,
): Promise<Map<string, AttendanceResults>> {
  const graded = [...(await attendancePoliciesOf(db, courseIds)).values()].filter((p) => p.gradeCategory !== null);
  if (graded.length === 0 || userIds.length === 0) return new Map();
  const rates = known ?? (await attendanceRates(db, { courseIds: graded.map((p) => p.courseId), userIds }, asOf));
  return new Map(
    graded.map((p) => [p.courseId, { category: p.gradeCategory as string, percentOf: new Map(userIds.map((u) => [u, rates.get(`${p.courseId}:${u}`)?.ratePercent ?? null])) }]),
  );
}

/**
 * The attendance result of one learner, to add to their assessment results (none when attendance is not graded).
 * Never dropped by the category's dropLowest: drops forgive single assessments, not the whole term's attendance.
 */
export function attendanceResultOf(results: AttendanceResults | undefined, userId: string): AssessmentResult[] {
  if (!results) return [];
  return [{ assessmentId: ATTENDANCE_RESULT_ID, category: results.category, percent: results.percentOf.get(userId) ?? null, excused: false, neverDropped: true }];
}
