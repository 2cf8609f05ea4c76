import { and, asc, desc, eq, gt, inArray, isNotNull } from "drizzle-orm";
import { union } from "drizzle-orm/pg-core";
import type { AttendanceRates } from "../attendance/attendance-rate.js";
import type { Executor } from "../db/client.js";
import { type AssessmentKind, assessments, attempts, attendancePolicies, courses, enrollments, gradeCategories, gradeExcusals, grades } from "../db/schema/index.js";
import { attendanceResultOf, attendanceResults } from "./attendance-result.js";
import { type CourseGrade, courseGrade } from "./course-grade.js";
import { resultsReleased } from "./results-release.js";

export interface LearnerGrade {
  id: string;
  submissionId: string;
  attemptNumber: number;
  assessment: { id: string; title: string; kind: AssessmentKind; category: string };
  percent: number | null;
  version: number;
  keyVersion: number;
  excused: boolean;
  gradedAt: Date;
  /** When the learner could first see it: graded, or released by staff if that came later. */
  releasedAt: Date;
}

export interface LearnerCourseGrades {
  courseId: string;
  courseTitle: string;
  /** Over released results only, so it can differ from the staff gradebook until staff release. */
  courseGrade: CourseGrade;
  grades: LearnerGrade[];
}

/**
 * A learner's released grades, per course in course id order (limit + 1 courses, for pagination): for each
 * assessment the grade that counts (the newest, as in the gradebook) and the course grade computed from them.
 * Reached through the learner's attempts (indexed by user) and their grades (indexed by submission), and through
 * their active enrollments in courses whose attendance policy grades attendance (a course graded only on
 * attendance has a grade before any attempt). Attendance rates are read as of `asOf` (the caller's clock).
 */
export async function learnerGrades(
  db: Executor,
  userId: string,
  q: {
    limit: number;
    /** only these courses (one course's grades, the transcript's courses) */
    courseIds?: readonly string[];
    afterCourseId?: string;
    asOf: Date;
    /** the learner's attendance rates in these courses as of `asOf`, when the caller has already read them */
    rates?: AttendanceRates;
  },
): Promise<LearnerCourseGrades[]> {
  if (q.courseIds?.length === 0) return [];
  const shown = and(eq(attempts.userId, userId), resultsReleased(), q.courseIds ? inArray(attempts.courseId, [...q.courseIds]) : undefined);
  const page = await union(
    db
      .select({ courseId: attempts.courseId })
      .from(attempts)
      .innerJoin(grades, eq(grades.submissionId, attempts.id))
      .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
      .where(and(shown, q.afterCourseId ? gt(attempts.courseId, q.afterCourseId) : undefined)),
    db
      .select({ courseId: enrollments.courseId })
      .from(enrollments)
      .innerJoin(attendancePolicies, eq(attendancePolicies.courseId, enrollments.courseId))
      .where(
        and(
          eq(enrollments.userId, userId),
          eq(enrollments.status, "active"),
          isNotNull(attendancePolicies.gradeCategory),
          q.courseIds ? inArray(enrollments.courseId, [...q.courseIds]) : undefined,
          q.afterCourseId ? gt(enrollments.courseId, q.afterCourseId) : undefined,
        ),
      ),
  )
    .orderBy(asc(attempts.courseId))
    .limit(q.limit + 1);
  if (page.length === 0) return [];
  const courseIds = page.map((p) => p.courseId);
  const [current, titles, courseAssessments, categories, excusals, attendance] = await Promise.all([
    db
      .selectDistinctOn([grades.assessmentId], {
        grade: grades,
        attemptNumber: attempts.number,
        assessment: { id: assessments.id, title: assessments.title, kind: assessments.kind, category: assessments.category },
        releaseMode: assessments.releaseMode,
        staffReleasedAt: assessments.releasedAt,
      })
      .from(attempts)
      .innerJoin(grades, eq(grades.submissionId, attempts.id))
      .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
      .where(and(shown, inArray(attempts.courseId, courseIds)))
      .orderBy(grades.assessmentId, desc(grades.createdAt), desc(grades.version)),
    db.select({ id: courses.id, title: courses.title }).from(courses).where(inArray(courses.id, courseIds)),
    // Every assessment of the course: categories without a configured weight share what is left among all of them.
    db.select({ id: assessments.id, courseId: assessments.courseId, category: assessments.category }).from(assessments).where(inArray(assessments.courseId, courseIds)),
    db.select().from(gradeCategories).where(inArray(gradeCategories.courseId, courseIds)),
    db
      .select({ assessmentId: gradeExcusals.assessmentId })
      .from(gradeExcusals)
      .innerJoin(assessments, eq(assessments.id, gradeExcusals.assessmentId))
      .where(and(eq(gradeExcusals.userId, userId), inArray(assessments.courseId, courseIds))),
    attendanceResults(db, courseIds, [userId], q.asOf, q.rates),
  ]);
  const excused = new Set(excusals.map((e) => e.assessmentId));
  const titleOf = new Map(titles.map((t) => [t.id, t.title]));
  return courseIds.map((courseId) => {
    const mine: LearnerGrade[] = current
      .filter((c) => c.grade.courseId === courseId)
      .map((c) => ({
        id: c.grade.id,
        submissionId: c.grade.submissionId,
        attemptNumber: c.attemptNumber,
        assessment: c.assessment,
        percent: c.grade.percent,
        version: c.grade.version,
        keyVersion: c.grade.keyVersion,
        excused: excused.has(c.assessment.id),
        gradedAt: c.grade.createdAt,
        releasedAt: c.releaseMode === "manual" && c.staffReleasedAt && c.staffReleasedAt > c.grade.createdAt ? c.staffReleasedAt : c.grade.createdAt,
      }));
    const percentOf = new Map(mine.map((g) => [g.assessment.id, g.percent]));
    const results = courseAssessments
      .filter((a) => a.courseId === courseId)
      .map((a) => ({ assessmentId: a.id, category: a.category, percent: percentOf.get(a.id) ?? null, excused: excused.has(a.id) }))
      .concat(attendanceResultOf(attendance.get(courseId), userId));
    return {
      courseId,
      courseTitle: titleOf.get(courseId) ?? "",
      courseGrade: courseGrade(
        results,
        categories.filter((c) => c.courseId === courseId),
      ),
      grades: mine,
    };
  });
}
