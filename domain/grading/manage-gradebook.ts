import { and, eq } from "drizzle-orm";
import { assessments, gradeCategories, gradeExcusals } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { Category } from "./course-grade.js";

/** Replaces a course's categories; weights may not add up to more than 100%. */
export async function setCategories(ctx: DomainContext, courseId: string, categories: Category[]): Promise<Result<Category[], "INVALID_ASSESSMENT_SETTINGS">> {
  const total = categories.reduce((s, c) => s + c.weightPercent, 0);
  if (total > 100 + 1e-9) return fail("INVALID_ASSESSMENT_SETTINGS", `Category weights add up to ${total}%, more than 100%.`);
  if (new Set(categories.map((c) => c.name)).size !== categories.length) return fail("INVALID_ASSESSMENT_SETTINGS", "Category names repeat.");
  await ctx.db.delete(gradeCategories).where(eq(gradeCategories.courseId, courseId));
  if (categories.length) await ctx.db.insert(gradeCategories).values(categories.map((c) => ({ courseId, ...c })));
  await recordAudit(ctx, { action: "grade.categories-changed", targetType: "course", targetId: courseId, details: { categories } });
  return ok(categories);
}

/** Excuses a learner from an assessment (or takes the excusal back). Audited as a grade change. */
export async function setExcused(ctx: DomainContext, input: { assessmentId: string; userId: string; excused: boolean; reason: string }): Promise<Result<null, "ASSESSMENT_NOT_FOUND">> {
  const [a] = await ctx.db.select({ courseId: assessments.courseId }).from(assessments).where(eq(assessments.id, input.assessmentId));
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  if (input.excused) {
    await ctx.db
      .insert(gradeExcusals)
      .values({ assessmentId: input.assessmentId, userId: input.userId, reason: input.reason, createdAt: ctx.now() })
      .onConflictDoUpdate({ target: [gradeExcusals.assessmentId, gradeExcusals.userId], set: { reason: input.reason } });
  } else {
    await ctx.db.delete(gradeExcusals).where(and(eq(gradeExcusals.assessmentId, input.assessmentId), eq(gradeExcusals.userId, input.userId)));
  }
  await recordAudit(ctx, { action: "grade.excused", targetType: "assessment", targetId: input.assessmentId, details: { userId: input.userId, excused: input.excused, reason: input.reason } });
  return ok(null);
}
