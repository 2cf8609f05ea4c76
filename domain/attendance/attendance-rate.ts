import { and, eq, inArray, lte, ne, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { attendanceMarks, classSessions } from "../db/schema/index.js";

/** One learner's attendance in one course: present and late count as attended, excused counts for nothing. */
export interface AttendanceRate {
  courseId: string;
  userId: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  /** (present + late) / (present + late + absent) in percent, two decimals; null while nothing counts. */
  ratePercent: number | null;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function rateOf(counts: Omit<AttendanceRate, "ratePercent">): AttendanceRate {
  const counted = counts.present + counts.late + counts.absent;
  return { ...counts, ratePercent: counted === 0 ? null : round2(((counts.present + counts.late) / counted) * 100) };
}

/**
 * Attendance rates from the marks of sessions that are not cancelled and have started by `asOf`, grouped by
 * (course, learner). Filter by course (or a batch of courses), by learners, or both; a learner without marks is absent from the map.
 */
export async function attendanceRates(
  db: Executor,
  filter: { courseId?: string; courseIds?: readonly string[]; userIds?: readonly string[] },
  asOf: Date,
): Promise<Map<string /* `${courseId}:${userId}` */, AttendanceRate>> {
  const conditions = [ne(classSessions.status, "cancelled"), lte(classSessions.startsAt, asOf)];
  if (filter.courseId) conditions.push(eq(attendanceMarks.courseId, filter.courseId));
  if (filter.courseIds) {
    if (filter.courseIds.length === 0) return new Map();
    conditions.push(inArray(attendanceMarks.courseId, [...filter.courseIds]));
  }
  if (filter.userIds) {
    if (filter.userIds.length === 0) return new Map();
    conditions.push(inArray(attendanceMarks.userId, [...filter.userIds]));
  }
  const rows = await db
    .select({
      courseId: attendanceMarks.courseId,
      userId: attendanceMarks.userId,
      present: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'present')::int`,
      late: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'late')::int`,
      absent: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'absent')::int`,
      excused: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'excused')::int`,
    })
    .from(attendanceMarks)
    .innerJoin(classSessions, eq(classSessions.id, attendanceMarks.sessionId))
    .where(and(...conditions))
    .groupBy(attendanceMarks.courseId, attendanceMarks.userId);
  return new Map(rows.map((r) => [`${r.courseId}:${r.userId}`, rateOf(r)]));
}
