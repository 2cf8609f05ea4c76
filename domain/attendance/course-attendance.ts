import { and, asc, eq, gt, gte, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "../db/client.js";
import { type AttendanceStatus, attendanceMarks, classSessions, enrollments, users } from "../db/schema/index.js";
import { csvRow } from "../shared/csv.js";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import { sectionsInView } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type AttendanceRate, attendanceRates, noMarks, type SessionAttendanceRate, sessionAttendanceRates } from "./attendance-rate.js";

/** Sessions a report covers at most (a term of daily classes); a longer range is refused: narrow from/to. */
const MAX_REPORT_SESSIONS = 400;

export interface ReportSession {
  id: string;
  title: string;
  sectionId: string | null;
  startsAt: Date;
  endsAt: Date;
  rate: Omit<SessionAttendanceRate, "sessionId">;
}

/** A learner's cell per session: a status, "unmarked", or null when the session is not one they are expected at. */
export type Cell = AttendanceStatus | "unmarked" | null;

export interface ReportRow {
  userId: string;
  displayName: string;
  email: string;
  sectionId: string | null;
  cells: Record<string, Cell>;
  rate: Omit<AttendanceRate, "courseId" | "userId">;
}

export type ReportErrorCode = "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE" | "INVALID_CURSOR" | "ATTENDANCE_RANGE_TOO_LARGE";

export interface AttendanceReport {
  sessions: ReportSession[];
  /** limit + 1 rows, for pagination. */
  rows: ReportRow[];
}

export interface ReportQuery {
  limit: number;
  afterUserId?: string;
  from?: Date;
  to?: Date;
  section?: string;
}


/**
 * The course's attendance: sessions that have started by `now` and are not cancelled (optionally within [from, to)),
 * by start; learners in user id order, each with a cell per session and their rate over these sessions; each
 * session with its rate over the learners in view. `sectionIds` (null: the whole course) keeps those sections'
 * learners and the sessions that concern them; `onlyUserId` gives one learner's row (their own view), and the
 * session rates then count their own attendance only. More than MAX_REPORT_SESSIONS sessions are refused rather
 * than cut, so rates always cover the whole range.
 */
async function attendanceReport(
  db: Executor,
  courseId: string,
  q: ReportQuery & { sectionIds: readonly string[] | null; onlyUserId?: string },
  now: Date,
): Promise<Result<AttendanceReport, "ATTENDANCE_RANGE_TOO_LARGE">> {
  const learners = await db
    .select({ userId: users.id, displayName: users.displayName, email: users.email, sectionId: enrollments.sectionId })
    .from(enrollments)
    .innerJoin(users, eq(users.id, enrollments.userId))
    .where(
      and(
        eq(enrollments.courseId, courseId),
        eq(enrollments.status, "active"),
        q.onlyUserId ? eq(enrollments.userId, q.onlyUserId) : undefined,
        q.afterUserId ? gt(users.id, q.afterUserId) : undefined,
        q.sectionIds ? sql`${enrollments.sectionId} = any(${sql.param([...q.sectionIds])}::uuid[])` : undefined,
      ),
    )
    .orderBy(asc(users.id))
    .limit(q.limit + 1);
  // A learner's own view covers the sessions of their section; a section view, those of its sections.
  const sessionSections = q.onlyUserId ? learners.map((l) => l.sectionId).filter((s): s is string => s !== null) : q.sectionIds;
  const sessions = await db
    .select({ id: classSessions.id, title: classSessions.title, sectionId: classSessions.sectionId, startsAt: classSessions.startsAt, endsAt: classSessions.endsAt })
    .from(classSessions)
    .where(
      and(
        eq(classSessions.courseId, courseId),
        ne(classSessions.status, "cancelled"),
        lte(classSessions.startsAt, now),
        q.from ? gte(classSessions.startsAt, q.from) : undefined,
        q.to ? lt(classSessions.startsAt, q.to) : undefined,
        sessionSections ? or(isNull(classSessions.sectionId), sql`${classSessions.sectionId} = any(${sql.param([...sessionSections])}::uuid[])`) : undefined,
      ),
    )
    .orderBy(asc(classSessions.startsAt), asc(classSessions.id))
    .limit(MAX_REPORT_SESSIONS + 1);
  if (sessions.length > MAX_REPORT_SESSIONS) {
    return fail("ATTENDANCE_RANGE_TOO_LARGE", `The report covers at most ${MAX_REPORT_SESSIONS} sessions: narrow from/to.`, { maxSessions: MAX_REPORT_SESSIONS });
  }
  const sessionIds = sessions.map((s) => s.id);
  const userIds = learners.map((l) => l.userId);
  const [marks, learnerRates, sessionRates] = await Promise.all([
    sessionIds.length && userIds.length
      ? db
          .select({ sessionId: attendanceMarks.sessionId, userId: attendanceMarks.userId, status: attendanceMarks.status })
          .from(attendanceMarks)
          .where(and(inArray(attendanceMarks.sessionId, sessionIds), inArray(attendanceMarks.userId, userIds)))
      : [],
    attendanceRates(db, { courseId, userIds, sessionIds }, now),
    sessionAttendanceRates(db, sessionIds, q.onlyUserId ? { userIds: [q.onlyUserId] } : q.sectionIds ? { sectionIds: q.sectionIds } : null, now),
  ]);
  const markOf = new Map(marks.map((m) => [`${m.sessionId}:${m.userId}`, m.status]));
  return ok({
    sessions: sessions.map((s) => {
      const { sessionId: _, ...rate } = sessionRates.get(s.id) ?? { sessionId: s.id, ...noMarks };
      return { ...s, rate };
    }),
    rows: learners.map((l) => {
      const cells: Record<string, Cell> = {};
      for (const s of sessions) {
        const expected = s.sectionId === null || s.sectionId === l.sectionId;
        cells[s.id] = markOf.get(`${s.id}:${l.userId}`) ?? (expected ? "unmarked" : null);
      }
      const { courseId: _c, userId: _u, ...rate } = learnerRates.get(`${courseId}:${l.userId}`) ?? { courseId, userId: l.userId, ...noMarks };
      return { ...l, cells, rate };
    }),
  });
}

/**
 * The report as the viewer may see it: admins and course staff the section asked for or their scope; anyone else
 * (a learner, by the route's access) only their own row. `afterUserId` comes from a client's cursor: not a user id,
 * it is refused.
 */
export async function attendanceReportSeenBy(db: Executor, courseId: string, viewer: CourseViewer, q: ReportQuery, now: Date): Promise<Result<AttendanceReport, ReportErrorCode>> {
  if (q.afterUserId !== undefined && !z.uuid().safeParse(q.afterUserId).success) return fail("INVALID_CURSOR", "The cursor is not one this report issued.");
  const range = { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) };
  const isStaff = await seesAsStaff(viewer, courseId);
  if (!isStaff) return attendanceReport(db, courseId, { limit: 1, ...range, sectionIds: null, onlyUserId: viewer.userId }, now);
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  return attendanceReport(db, courseId, { ...q, sectionIds: sectionIds.value }, now);
}

/** RFC 4180 CSV: a row per learner, a column per session (its title and start), the learner's counts and rate; last, each session's rate. */
export function attendanceCsv(report: { sessions: ReportSession[]; rows: ReportRow[] }): string {
  const header = ["userId", "displayName", "email", ...report.sessions.map((s) => `${s.title} (${s.startsAt.toISOString()})`), "present", "late", "absent", "excused", "ratePercent"];
  const lines = report.rows.map((r) =>
    csvRow([r.userId, r.displayName, r.email, ...report.sessions.map((s) => r.cells[s.id] ?? ""), r.rate.present, r.rate.late, r.rate.absent, r.rate.excused, r.rate.ratePercent]),
  );
  const sessionRates = csvRow(["", "", "session ratePercent", ...report.sessions.map((s) => s.rate.ratePercent), "", "", "", "", ""]);
  return csvRow(header) + lines.join("") + sessionRates;
}
