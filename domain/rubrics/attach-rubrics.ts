import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { RubricAttachments } from "../db/schema/assessment-json.js";
import { assessments, attempts, bankItems, manualScores, rubrics } from "../db/schema/index.js";
import { isManual } from "../grading/items.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { UUID_PATTERN } from "../shared/uuid.js";


/** The rubric that scores an item under some attachments: its own, else the whole-assessment one. */
export const rubricFor = (attachments: RubricAttachments, itemId: string): string | null => attachments.items[itemId] ?? attachments.whole;

/**
 * Sets which of the course's rubrics score the assessment's essay/file items, and the whole assessment. An item is
 * a fixed essay/file item of the assessment, or a bank essay/file item of a bank its pools draw from (a drawn item
 * is presented under its bank item's id, so its rubric is found by that id whichever attempt drew it). Scores
 * already made with a rubric keep it: a change that would score any of them with another rubric (or none) is
 * refused with `RUBRIC_IN_USE`. The assessment row lock orders this against graders scoring (who take it `for
 * share`); the rubrics are taken `for share` so none is deleted meanwhile.
 */
export async function attachRubrics(
  ctx: DomainContext,
  assessmentId: string,
  next: RubricAttachments,
): Promise<Result<RubricAttachments, "ASSESSMENT_NOT_FOUND" | "INVALID_ASSESSMENT_SETTINGS" | "RUBRIC_NOT_FOUND" | "RUBRIC_IN_USE">> {
  const [a] = await ctx.db
    .select({ id: assessments.id, courseId: assessments.courseId, items: assessments.items, pools: assessments.pools, rubrics: assessments.rubrics })
    .from(assessments)
    .where(eq(assessments.id, assessmentId))
    .for("update");
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  const manual = new Set(a.items.filter(isManual).map((i) => i.id));
  const maybeDrawn = Object.keys(next.items).filter((itemId) => !manual.has(itemId) && UUID_PATTERN.test(itemId));
  const poolBanks = [...new Set(a.pools.map((p) => p.bankId))];
  if (maybeDrawn.length && poolBanks.length) {
    const drawable = await ctx.db
      .select({ id: bankItems.id })
      .from(bankItems)
      .where(sql`${bankItems.id} = any(${sql.param(maybeDrawn)}::uuid[]) and ${bankItems.bankId} = any(${sql.param(poolBanks)}::uuid[]) and ${bankItems.type} in ('essay', 'file')`);
    for (const d of drawable) manual.add(d.id);
  }
  const notManual = Object.keys(next.items).filter((itemId) => !manual.has(itemId));
  if (notManual.length) {
    return fail("INVALID_ASSESSMENT_SETTINGS", `Rubrics score essay and file items of the assessment (or of the banks its pools draw from) only: ${notManual.join(", ")}`, { items: notManual });
  }
  const ids = [...new Set([...Object.values(next.items), ...(next.whole ? [next.whole] : [])])].sort();
  if (ids.length) {
    const found = await ctx.db
      .select({ id: rubrics.id })
      .from(rubrics)
      .where(sql`${rubrics.id} = any(${sql.param(ids)}::uuid[]) and ${rubrics.courseId} = ${a.courseId}`)
      .orderBy(rubrics.id)
      .for("share");
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) return fail("RUBRIC_NOT_FOUND", `Not rubrics of this course: ${missing.join(", ")}`, { rubricIds: missing });
  }
  const used = await ctx.db
    .selectDistinct({ itemId: manualScores.itemId, rubricId: sql<string>`${manualScores.rubric}->>'rubricId'` })
    .from(manualScores)
    .innerJoin(attempts, eq(attempts.id, manualScores.submissionId))
    .where(sql`${attempts.assessmentId} = ${assessmentId} and ${manualScores.rubric} is not null`);
  const moved = used.filter((u) => rubricFor(next, u.itemId) !== u.rubricId);
  if (moved.length) {
    return fail("RUBRIC_IN_USE", `Submissions were scored with these rubrics on these items; they stay attached: ${moved.map((m) => `${m.itemId} (${m.rubricId})`).join(", ")}`, {
      inUse: moved,
    });
  }
  await ctx.db.update(assessments).set({ rubrics: next, version: sql`${assessments.version} + 1`, updatedAt: ctx.now() }).where(eq(assessments.id, assessmentId));
  await recordAudit(ctx, { action: "assessment.rubrics-attached", targetType: "assessment", targetId: assessmentId, details: { before: a.rubrics, after: next } });
  return ok(next);
}
