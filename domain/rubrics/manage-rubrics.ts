import { and, desc, eq, lt, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import type { RubricCriterion } from "../db/schema/assessment-json.js";
import { assessments, rubrics } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type RubricRuleCode, rubricProblems } from "./rubric-rules.js";

export type RubricRow = typeof rubrics.$inferSelect;

export interface RubricInput {
  title: string;
  criteria: RubricCriterion[];
}

/** Assessments whose attachments name the rubric (per item or whole): a rubric in use cannot be deleted. */
export const attachedTo = (rubricId: string) =>
  sql`(${assessments.rubrics}->>'whole' = ${rubricId} or exists (select 1 from jsonb_each_text(${assessments.rubrics}->'items') as e where e.value = ${rubricId}))`;

/** The course a rubric belongs to, for access checks; null when there is no such rubric. */
export async function rubricCourse(db: Executor, rubricId: string): Promise<string | null> {
  const [row] = await db.select({ courseId: rubrics.courseId }).from(rubrics).where(eq(rubrics.id, rubricId));
  return row?.courseId ?? null;
}

export async function createRubric(ctx: DomainContext, courseId: string, input: RubricInput): Promise<Result<RubricRow, RubricRuleCode>> {
  const rules = rubricProblems(input.criteria);
  if (!rules.ok) return rules;
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(rubrics)
    .values({ id: ctx.newId(), courseId, title: input.title, criteria: input.criteria, version: 1, createdByUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
    .returning();
  const rubric = row as RubricRow;
  await recordAudit(ctx, { action: "rubric.created", targetType: "rubric", targetId: rubric.id, details: { courseId, title: rubric.title } });
  return ok(rubric);
}

export async function rubricById(db: Executor, id: string): Promise<Result<RubricRow, "RUBRIC_NOT_FOUND">> {
  const [row] = await db.select().from(rubrics).where(eq(rubrics.id, id));
  return row ? ok(row) : fail("RUBRIC_NOT_FOUND");
}

/** A course's rubrics, newest first (ids are time-ordered), a page at a time. */
export async function listRubrics(db: Executor, courseId: string, options: { limit: number; beforeId?: string }): Promise<RubricRow[]> {
  return db
    .select()
    .from(rubrics)
    .where(and(eq(rubrics.courseId, courseId), options.beforeId ? lt(rubrics.id, options.beforeId) : undefined))
    .orderBy(desc(rubrics.id))
    .limit(options.limit + 1);
}

/** Deletes a rubric no assessment uses (detach it first: scores made with it keep it attached). */
export async function deleteRubric(ctx: DomainContext, id: string): Promise<Result<null, "RUBRIC_NOT_FOUND" | "RUBRIC_IN_USE">> {
  // The row lock orders this against an attachment naming the rubric (which takes it `for share`).
  const [row] = await ctx.db.select({ id: rubrics.id, courseId: rubrics.courseId, title: rubrics.title }).from(rubrics).where(eq(rubrics.id, id)).for("update");
  if (!row) return fail("RUBRIC_NOT_FOUND");
  const users = await ctx.db.select({ id: assessments.id }).from(assessments).where(and(eq(assessments.courseId, row.courseId), attachedTo(id)));
  if (users.length) return fail("RUBRIC_IN_USE", "Assessments use this rubric: detach it first.", { assessmentIds: users.map((u) => u.id) });
  await ctx.db.delete(rubrics).where(eq(rubrics.id, id));
  await recordAudit(ctx, { action: "rubric.deleted", targetType: "rubric", targetId: id, details: { courseId: row.courseId, title: row.title } });
  return ok(null);
}
