import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courseEvaluations, courses, evaluationReceipts, evaluationTemplates } from "../db/schema/index.js";
import { viewerScope } from "../sections/staff-scope.js";
import { type CourseViewer, isCourseStaffOrAdmin } from "../sections/viewer.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { receiptFor } from "./receipts.js";

export type CourseEvaluation = typeof courseEvaluations.$inferSelect;

/** The longest an evaluation may stay open. */
export const MAX_WINDOW_MS = 366 * 86_400_000;

/** The course an evaluation belongs to (for access checks); null when there is no such evaluation. */
export async function evaluationCourse(db: Executor, evaluationId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: courseEvaluations.courseId }).from(courseEvaluations).where(eq(courseEvaluations.id, evaluationId));
  return row?.courseId ?? null;
}

export type OpenEvaluationError = "SECTION_OUT_OF_SCOPE" | "EVALUATION_TEMPLATE_NOT_FOUND" | "EVALUATION_TEMPLATE_ARCHIVED" | "EVALUATION_WINDOW_INVALID" | "COURSE_NOT_FOUND";

/**
 * Schedules a template for a course over [opensAt, closesAt): the evaluations timer opens it (telling the
 * learners) and closes it. The template's questions are copied, so its later archiving changes nothing here.
 * An opening time in the past means "at the timer's next run".
 */
export async function scheduleEvaluation(
  ctx: DomainContext,
  input: { courseId: string; templateId: string; term: string; opensAt: Date; closesAt: Date },
  viewer: { userId: string; isAdmin: boolean },
): Promise<Result<CourseEvaluation, OpenEvaluationError>> {
  if ((await viewerScope(ctx.db, input.courseId, viewer)) !== null) return fail("SECTION_OUT_OF_SCOPE", "An evaluation asks the whole course: its unscoped instructors or an administrator schedule it.");
  if (input.closesAt.getTime() <= input.opensAt.getTime()) return fail("EVALUATION_WINDOW_INVALID", "closesAt must be after opensAt.");
  if (input.closesAt.getTime() - input.opensAt.getTime() > MAX_WINDOW_MS) return fail("EVALUATION_WINDOW_INVALID", "An evaluation stays open at most a year.");
  if (input.closesAt.getTime() <= ctx.now().getTime()) return fail("EVALUATION_WINDOW_INVALID", "closesAt must be in the future.");
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, input.courseId));
  if (!course) return fail("COURSE_NOT_FOUND");
  // Key-share lock: the template cannot be changed (its questions) while this evaluation is copied from it.
  const [template] = await ctx.db.select().from(evaluationTemplates).where(eq(evaluationTemplates.id, input.templateId)).for("key share");
  if (!template) return fail("EVALUATION_TEMPLATE_NOT_FOUND");
  if (template.archivedAt) return fail("EVALUATION_TEMPLATE_ARCHIVED", "The template is archived: choose a current one.");
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(courseEvaluations)
    .values({
      id: ctx.newId(),
      courseId: input.courseId,
      templateId: template.id,
      term: input.term,
      questions: template.questions,
      opensAt: input.opensAt,
      closesAt: input.closesAt,
      createdByUserId: ctx.actor.userId,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return ok(row as CourseEvaluation);
}

export interface EvaluationListing {
  evaluation: CourseEvaluation;
  /** Learners: whether they answered (null for staff). */
  answered: boolean | null;
}

/**
 * A course's evaluations as the viewer may see them: staff (and admins) all, with their response counts; a learner
 * the open ones, each with whether they answered (their receipts computed here, looked up in one query). Few per
 * course (one per term or so), so the list is bounded rather than paged.
 */
export async function courseEvaluationsSeenBy(
  db: Executor,
  courseId: string,
  viewer: CourseViewer,
  receiptKey: string,
): Promise<EvaluationListing[]> {
  const staff = isCourseStaffOrAdmin(viewer);
  const rows = await db
    .select()
    .from(courseEvaluations)
    .where(and(eq(courseEvaluations.courseId, courseId), staff ? undefined : eq(courseEvaluations.status, "open")))
    .orderBy(asc(courseEvaluations.opensAt), asc(courseEvaluations.id))
    .limit(500);
  if (staff) return rows.map((evaluation) => ({ evaluation, answered: null }));
  if (rows.length === 0) return [];
  const receipts = rows.map((e) => receiptFor(receiptKey, e.id, viewer.userId));
  const found = await db
    .select({ evaluationId: evaluationReceipts.evaluationId })
    .from(evaluationReceipts)
    .where(and(inArray(evaluationReceipts.evaluationId, rows.map((e) => e.id)), sql`${evaluationReceipts.receipt} = any(${sql.param(receipts)}::text[])`));
  const answered = new Set(found.map((r) => r.evaluationId));
  return rows.map((evaluation) => ({ evaluation, answered: answered.has(evaluation.id) }));
}
