import { and, asc, desc, eq, inArray, isNotNull } from "drizzle-orm";
import { attendanceRates, noMarks } from "../attendance/attendance-rate.js";
import type { Executor } from "../db/client.js";
import { certificates, courseProgress, courses, enrollments, users } from "../db/schema/index.js";
import { learnerGrades } from "../grading/learner-grades.js";
import { fail, ok, type Result } from "../shared/result.js";

/** How the learner's place in the course stands: `completed` once the completion rules were met (the place may still be active). */
export type TranscriptStatus = "active" | "completed" | "dropped" | "removed";

export interface TranscriptCourse {
  courseId: string;
  title: string;
  code: string | null;
  status: TranscriptStatus;
  enrolledAt: Date;
  endedAt: Date | null;
  /** The course grade over released results, as the learner's grades show it; null while nothing counts. */
  finalGradePercent: number | null;
  completion: { percent: number; completedAt: Date | null };
  attendance: { ratePercent: number | null; present: number; late: number; absent: number; excused: number };
  certificates: { id: string; code: string; issuedAt: Date; verifyUrl: string }[];
}

export interface Transcript {
  learner: { id: string; name: string };
  generatedAt: Date;
  courses: TranscriptCourse[];
}

/** More courses than anyone takes: the transcript is one document, not a paged list. */
const transcriptCourseLimit = 2000;

/**
 * Every course the user was enrolled in as a learner (active, completed, dropped, removed; never ones they only
 * waited for), oldest enrollment first, with the final grade, completion, attendance rate and certificates. One
 * query per kind of data, whatever the number of courses. The verification URL is the one printed on the
 * certificate (`<verifyBaseUrl>/<code>`).
 */
export async function transcriptOf(db: Executor, userId: string, opts: { now: Date; verifyBaseUrl: string }): Promise<Result<Transcript, "USER_NOT_FOUND">> {
  const [learner] = await db.select({ id: users.id, name: users.displayName }).from(users).where(eq(users.id, userId));
  if (!learner) return fail("USER_NOT_FOUND");
  // A learner dropped and re-enrolled has several rows for a course: the newest one says where they stand.
  const places = await db
    .selectDistinctOn([enrollments.courseId], {
      courseId: enrollments.courseId,
      title: courses.title,
      code: courses.code,
      status: enrollments.status,
      enrolledAt: enrollments.enrolledAt,
      endedAt: enrollments.endedAt,
      completedAt: enrollments.completedAt,
    })
    .from(enrollments)
    .innerJoin(courses, eq(courses.id, enrollments.courseId))
    .where(and(eq(enrollments.userId, userId), isNotNull(enrollments.enrolledAt), inArray(enrollments.status, ["active", "dropped", "removed"])))
    .orderBy(asc(enrollments.courseId), desc(enrollments.enrolledAt))
    .limit(transcriptCourseLimit);
  const courseIds = places.map((p) => p.courseId);
  // One rate read serves the attendance column and the grades of courses that grade attendance.
  const ratesRead = attendanceRates(db, { courseIds, userIds: [userId] }, opts.now);
  const [grades, progress, rates, certs] = courseIds.length
    ? await Promise.all([
        ratesRead.then((known) => learnerGrades(db, userId, { limit: courseIds.length, courseIds, asOf: opts.now, rates: known })),
        db
          .select({ courseId: courseProgress.courseId, percent: courseProgress.percent, completedAt: courseProgress.completedAt })
          .from(courseProgress)
          .where(and(eq(courseProgress.userId, userId), inArray(courseProgress.courseId, courseIds))),
        ratesRead,
        db
          .select({ id: certificates.id, courseId: certificates.courseId, code: certificates.code, issuedAt: certificates.issuedAt })
          .from(certificates)
          .where(eq(certificates.userId, userId))
          .orderBy(asc(certificates.issuedAt)),
      ])
    : [[], [], new Map(), []];
  const gradeOf = new Map(grades.map((g) => [g.courseId, g.courseGrade.percent]));
  const progressOf = new Map(progress.map((p) => [p.courseId, p]));
  const base = opts.verifyBaseUrl.replace(/\/+$/, "");
  const rows = places
    .map((p): TranscriptCourse => {
      const rate = rates.get(`${p.courseId}:${userId}`);
      const done = progressOf.get(p.courseId);
      const completedAt = done?.completedAt ?? p.completedAt;
      return {
        courseId: p.courseId,
        title: p.title,
        code: p.code,
        status: p.status === "active" ? (completedAt ? "completed" : "active") : (p.status as "dropped" | "removed"),
        enrolledAt: p.enrolledAt as Date, // filtered on: not null
        endedAt: p.endedAt,
        finalGradePercent: gradeOf.get(p.courseId) ?? null,
        completion: { percent: done?.percent ?? 0, completedAt },
        attendance: rate
          ? { ratePercent: rate.ratePercent, present: rate.present, late: rate.late, absent: rate.absent, excused: rate.excused }
          : { ...noMarks },
        certificates: certs.filter((c) => c.courseId === p.courseId).map((c) => ({ id: c.id, code: c.code, issuedAt: c.issuedAt, verifyUrl: `${base}/${c.code}` })),
      };
    })
    .sort((a, b) => a.enrolledAt.getTime() - b.enrolledAt.getTime() || a.courseId.localeCompare(b.courseId));
  return ok({ learner, generatedAt: opts.now, courses: rows });
}
