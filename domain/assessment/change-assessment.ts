import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessmentExtensions, assessmentKeys, assessments, attempts, grades } from "../db/schema/index.js";
import type { ItemKey } from "../grading/items.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AssessmentErrorCode } from "./assessment.errors.js";
import { type AssessmentRow, type AssessmentSettings, currentKeys, settingsProblems } from "./manage-assessment.js";

export type AssessmentPatch = Partial<Omit<AssessmentSettings, "items" | "kind">>;

/**
 * Changes settings; a new answer key becomes a new key version and writes `assessment.key-changed`, so
 * the grading worker regrades what it affects. Items themselves do not change once created. New pools or shuffling
 * apply to attempts started afterwards; earlier attempts keep the items they were given. Switching held
 * (manual, unreleased) results to `immediate` shows them to learners: that is a release, made as
 * `releaseResults` makes it, so learners are told once. Answers the assessment with its current key (the
 * staff's view).
 */
export async function changeAssessment(
  ctx: DomainContext,
  id: string,
  patch: AssessmentPatch,
): Promise<Result<{ assessment: AssessmentRow; keys: Record<string, ItemKey> }, AssessmentErrorCode>> {
  const [a] = await ctx.db.select().from(assessments).where(eq(assessments.id, id)).for("update");
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  const { keys, ...columns } = patch;
  const merged = { ...a, ...columns, keys: keys ?? (await currentKeys(ctx.db, a)) };
  // Pools are checked against the banks only when they change: a bank item retired since must not block a title edit.
  const refused = await settingsProblems(ctx.db, a.courseId, merged, columns.pools !== undefined);
  if (refused.problems.length) return fail("INVALID_ASSESSMENT_SETTINGS", refused.problems.join("; "), refused);
  const now = ctx.now();
  const keyVersion = keys ? a.keyVersion + 1 : a.keyVersion;
  // Held results shown by the switch to immediate: released now, in this same update, and announced as a release.
  const releasing = a.releaseMode === "manual" && columns.releaseMode === "immediate" && !a.releasedAt;
  if (releasing) await announceRelease(ctx, a, now);
  if (keys) await ctx.db.insert(assessmentKeys).values({ assessmentId: id, version: keyVersion, keys, createdAt: now });
  const [row] = await ctx.db
    .update(assessments)
    .set({ ...columns, keyVersion, version: sql`${assessments.version} + 1`, updatedAt: now, ...(releasing ? { releasedAt: now } : {}) })
    .where(eq(assessments.id, id))
    .returning();
  if (keys) {
    await recordEvent(ctx, { type: "assessment.key-changed", aggregateType: "assessment", aggregateId: id, courseId: a.courseId, data: { assessmentId: id, courseId: a.courseId, keyVersion } });
  }
  return ok({ assessment: row as AssessmentRow, keys: merged.keys });
}

/**
 * Results of an assessment with manual release become visible to learners. The first release counts: a repeat
 * keeps its time (learners' "released at" and the grade emails rely on it) and tells nobody again. Releasing
 * held results writes `assessment.results-released`, so each learner with a grade is told.
 */
export async function releaseResults(ctx: DomainContext, id: string): Promise<Result<AssessmentRow, AssessmentErrorCode>> {
  const [a] = await ctx.db.select().from(assessments).where(eq(assessments.id, id)).for("update");
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  if (a.releasedAt) return ok(a as AssessmentRow);
  const now = ctx.now();
  const [row] = await ctx.db.update(assessments).set({ releasedAt: now, updatedAt: now }).where(eq(assessments.id, id)).returning();
  if (a.releaseMode === "manual") await announceRelease(ctx, a, now);
  return ok(row as AssessmentRow);
}

/** Held results became visible: `assessment.results-released` tells each learner with a grade (once: the first release). */
async function announceRelease(ctx: DomainContext, a: { id: string; courseId: string }, at: Date): Promise<void> {
  await recordEvent(ctx, {
    type: "assessment.results-released",
    aggregateType: "assessment",
    aggregateId: a.id,
    courseId: a.courseId,
    data: { assessmentId: a.id, courseId: a.courseId, releasedAt: at.toISOString() },
  });
}

export async function grantExtension(ctx: DomainContext, input: { assessmentId: string; userId: string; dueAt: Date | null; lockAt: Date | null }): Promise<Result<null, AssessmentErrorCode>> {
  const [a] = await ctx.db.select({ id: assessments.id }).from(assessments).where(eq(assessments.id, input.assessmentId));
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  if (input.dueAt && input.lockAt && input.lockAt < input.dueAt) return fail("INVALID_ASSESSMENT_SETTINGS", "lockAt is before dueAt");
  await ctx.db
    .insert(assessmentExtensions)
    .values({ ...input, createdAt: ctx.now() })
    .onConflictDoUpdate({ target: [assessmentExtensions.assessmentId, assessmentExtensions.userId], set: { dueAt: input.dueAt, lockAt: input.lockAt } });
  return ok(null);
}

/** Submissions whose newest grade was computed with an older key: what a key change must regrade. */
export async function submissionsToRegrade(db: Executor, assessmentId: string): Promise<string[]> {
  const [a] = await db.select({ keyVersion: assessments.keyVersion }).from(assessments).where(eq(assessments.id, assessmentId));
  if (!a) return [];
  const rows = await db.execute<{ id: string }>(sql`
    select s.id from ${attempts} s
    where s.assessment_id = ${assessmentId} and s.status = 'submitted'
      and exists (select 1 from ${grades} g where g.submission_id = s.id)
      and (select g.key_version from ${grades} g where g.submission_id = s.id order by g.version desc limit 1) < ${a.keyVersion}
    order by s.id`);
  return [...rows].map((r) => r.id);
}

