import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type EvaluationQuestion, evaluationTemplates } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export type EvaluationTemplate = typeof evaluationTemplates.$inferSelect;
export interface TemplateView extends EvaluationTemplate {
  /** Evaluations made from it: while there are none its questions may change. */
  inUse: boolean;
}

// Written out: inside the subquery drizzle would print both columns unqualified.
const inUse = sql<boolean>`exists (select 1 from course_evaluations ce where ce.template_id = evaluation_templates.id)`;

export async function createTemplate(ctx: DomainContext, input: { title: string; description: string; questions: EvaluationQuestion[] }): Promise<TemplateView> {
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(evaluationTemplates)
    .values({ id: ctx.newId(), ...input, createdByUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
    .returning();
  return { ...(row as EvaluationTemplate), inUse: false };
}

export async function templateById(db: Executor, id: string): Promise<Result<TemplateView, "EVALUATION_TEMPLATE_NOT_FOUND">> {
  const [row] = await db.select({ t: evaluationTemplates, inUse }).from(evaluationTemplates).where(eq(evaluationTemplates.id, id));
  return row ? ok({ ...row.t, inUse: row.inUse }) : fail("EVALUATION_TEMPLATE_NOT_FOUND");
}

/** Newest first (ids are time-ordered); archived ones only when asked. */
export async function listTemplates(db: Executor, options: { limit: number; beforeId?: string; archived: boolean }): Promise<TemplateView[]> {
  const rows = await db
    .select({ t: evaluationTemplates, inUse })
    .from(evaluationTemplates)
    .where(and(options.archived ? undefined : isNull(evaluationTemplates.archivedAt), options.beforeId ? lt(evaluationTemplates.id, options.beforeId) : undefined))
    .orderBy(desc(evaluationTemplates.id))
    .limit(options.limit + 1);
  return rows.map((r) => ({ ...r.t, inUse: r.inUse }));
}

export interface TemplatePatch {
  title?: string;
  description?: string;
  questions?: EvaluationQuestion[];
  archived?: boolean;
}

/**
 * Changes a template under its row lock. Its questions are fixed once an evaluation uses it (results compare by
 * question id across terms, so changing them would mix different questions): make a new template instead.
 * Templates are archived (hidden from new evaluations), never deleted.
 */
export async function updateTemplate(
  ctx: DomainContext,
  id: string,
  patch: TemplatePatch,
  expectedVersion: number | undefined,
): Promise<Result<TemplateView, "EVALUATION_TEMPLATE_NOT_FOUND" | "EVALUATION_TEMPLATE_IN_USE" | "PRECONDITION_FAILED">> {
  const [current] = await ctx.db.select().from(evaluationTemplates).where(eq(evaluationTemplates.id, id)).for("update");
  if (!current) return fail("EVALUATION_TEMPLATE_NOT_FOUND");
  if (expectedVersion !== undefined && expectedVersion !== current.version) return fail("PRECONDITION_FAILED", "The template changed since you read it.");
  const [{ used } = { used: false }] = await ctx.db.select({ used: inUse }).from(evaluationTemplates).where(eq(evaluationTemplates.id, id));
  if (patch.questions && used) return fail("EVALUATION_TEMPLATE_IN_USE", "Evaluations use this template: its questions cannot change. Create a new template.");
  const now = ctx.now();
  const [row] = await ctx.db
    .update(evaluationTemplates)
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.questions !== undefined ? { questions: patch.questions } : {}),
      ...(patch.archived !== undefined ? { archivedAt: patch.archived ? (current.archivedAt ?? now) : null } : {}),
      version: current.version + 1,
      updatedAt: now,
    })
    .where(eq(evaluationTemplates.id, id))
    .returning();
  return ok({ ...(row as EvaluationTemplate), inUse: used });
}
