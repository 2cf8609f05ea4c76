import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, grades } from "../db/schema/index.js";
import { courseRoleOf } from "../identity/caller.js";
import { inStaffScope } from "../sections/staff-scope.js";
import { fail, ok, type Result } from "../shared/result.js";

/**
 * The one rule for when learners see an assessment's results: at once in release mode "immediate",
 * otherwise once staff released them. SQL, so lists filter by it and single reads select it; the query must
 * join `assessments`.
 */
export const resultsReleased = () => sql<boolean>`(${assessments.releaseMode} = 'immediate' or ${assessments.releasedAt} is not null)`;

export type GradeRow = typeof grades.$inferSelect;

/** Whose a grade is and in which course, released or not: what access checks need. */
export async function gradeOwnership(db: Executor, gradeId: string): Promise<{ userId: string; courseId: string } | null> {
  const [row] = await db.select({ userId: grades.userId, courseId: grades.courseId }).from(grades).where(eq(grades.id, gradeId));
  return row ?? null;
}

/** A grade as `viewer` may see it: the course's staff (and admins) always, anyone else once results are released. */
export async function gradeSeenBy(db: Executor, gradeId: string, viewer: { userId: string; isAdmin: boolean }): Promise<Result<GradeRow, "GRADE_NOT_FOUND">> {
  const [row] = await db.select({ grade: grades, released: resultsReleased() }).from(grades).innerJoin(assessments, eq(assessments.id, grades.assessmentId)).where(eq(grades.id, gradeId));
  if (!row) return fail("GRADE_NOT_FOUND");
  // A grader scoped to sections does not see other sections' grades (released or not).
  if (row.grade.userId !== viewer.userId && !viewer.isAdmin && !(await inStaffScope(db, row.grade.courseId, viewer.userId, row.grade.userId))) return fail("GRADE_NOT_FOUND");
  if (row.released || viewer.isAdmin || (await courseRoleOf(db, viewer.userId, row.grade.courseId)) !== null) return ok(row.grade);
  return fail("GRADE_NOT_FOUND", "Results are not released yet.");
}
