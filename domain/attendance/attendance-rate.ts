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
  return { ...counts, ratePercent: ratePercentOf(counts) };
}

/** The rate rule alone, for any group of marks (a learner's, a session's). */
export function ratePercentOf(counts: { present: number; late: number; absent: number }): number | null {
  const counted = counts.present + counts.late + counts.absent;
  return counted === 0 ? null : round2(((counts.present + counts.late) / counted) * 100);
}

/** One session's attendance: the same rule over every learner's mark at it. */
export interface SessionAttendanceRate {
  sessionId: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  ratePercent: number | null;
}

/** Per-session rates in one grouped query; a session without marks is absent from the map. */
export async function sessionAttendanceRates(db: Executor, sessionIds: readonly string[]): Promise<Map<string, SessionAttendanceRate>> {
  if (sessionIds.length === 0) return new Map();
  const rows = await db
    .select({
      sessionId: attendanceMarks.sessionId,
      present: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'present')::int`,
      late: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'late')::int`,
      absent: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'absent')::int`,
      excused: sql<number>`count(*) filter (where ${attendanceMarks.status} = 'excused')::int`,
    })
    .from(attendanceMarks)
    .where(inArray(attendanceMarks.sessionId, [...sessionIds]))
    .groupBy(attendanceMarks.sessionId);
  return new Map(rows.map((r) => [r.sessionId, { ...r, ratePercent: ratePercentOf(r) }]));
}

/**
 * Attendance rates from the marks of sessions that are not cancelled and have started by `asOf`, grouped by
 * (course, learner). Filter by course (or a batch of courses), by learners, or both; a learner without marks is absent from the map.
 */
export async function attendanceRates(
  db: Executor,
  filter: { courseId?: string; courseIds?: readonly string[]; userIds?: readonly string[]; /** only these sessions (a report's date range or sections) */ sessionIds?: readonly string[] },
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
  if (filter.sessionIds) {
    if (filter.sessionIds.length === 0) return new Map();
    conditions.push(inArray(attendanceMarks.sessionId, [...filter.sessionIds]));
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
