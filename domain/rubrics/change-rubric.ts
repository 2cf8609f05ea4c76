import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import type { RubricChoices } from "../db/schema/assessment-json.js";
import { assessmentKeys, assessments, attempts, manualScores, rubrics } from "../db/schema/index.js";
import { loadSubmission, scoreSubmission, withRubric } from "../grading/grade-submission.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { attachedTo, type RubricInput, type RubricRow } from "./manage-rubrics.js";
import { invalidatedChoices, type RubricRuleCode, rubricProblems } from "./rubric-rules.js";

export interface RubricChangeDifference {
  assessmentId: string;
  submissions: { submissionId: string; userId: string; before: number | null; after: number | null }[];
}

type ChangeCode = RubricRuleCode | "RUBRIC_NOT_FOUND" | "PRECONDITION_FAILED" | "RUBRIC_LEVELS_IN_USE";

/** The dry run grades at most this many submissions (each loaded once, scored twice) in the request; past it, it says `truncated`. */
const DRY_RUN_SUBMISSIONS = 500;

export interface RubricDryRun {
  assessments: RubricChangeDifference[];
  /** More submissions were scored with the rubric than the dry run grades: the lists hold the first ones (by assessment, submission). */
  truncated: boolean;
}

/** The change refused when it would invalidate stored choices (the same check for the dry run and the change). */
function inUse(criteria: RubricInput["criteria"], scored: { choices: RubricChoices }[]): Result<null, "RUBRIC_LEVELS_IN_USE"> {
  const inUse = invalidatedChoices(criteria, scored.map((s) => s.choices));
  if (inUse.length === 0) return ok(null);
  const why = { removed: "removed", "over-maximum": "maximum below a stored choice", added: "added: scored submissions never chose it" };
  const named = inUse.map((r) => `${r.levelId ? `${r.criterionId}/${r.levelId}` : r.criterionId} (${why[r.reason]})`).join(", ");
  return fail("RUBRIC_LEVELS_IN_USE", `Scored submissions chose what this change invalidates: ${named}. A rubric in use may change titles, descriptions and level points and add levels; for more, make a new rubric.`, { inUse });
}

/** The assessments using the rubric, and the choices stored with it per submission of theirs (two indexed reads). */
async function scoredWith(
  db: Executor,
  rubric: { id: string; courseId: string },
): Promise<{ using: string[]; scored: { assessmentId: string; submissionId: string; choices: RubricChoices }[] }> {
  const using = await db.select({ id: assessments.id }).from(assessments).where(sql`${assessments.courseId} = ${rubric.courseId} and ${attachedTo(rubric.id)}`).orderBy(assessments.id);
  if (using.length === 0) return { using: [], scored: [] };
  const rows = await db
    .select({ assessmentId: attempts.assessmentId, submissionId: manualScores.submissionId, choices: manualScores.rubric })
    .from(manualScores)
    .innerJoin(attempts, eq(attempts.id, manualScores.submissionId))
    .where(sql`${attempts.assessmentId} = any(${sql.param(using.map((u) => u.id))}::uuid[]) and ${manualScores.rubric}->>'rubricId' = ${rubric.id}`)
    .orderBy(attempts.assessmentId, manualScores.submissionId);
  return { using: using.map((u) => u.id), scored: rows.flatMap((r) => (r.choices ? [{ assessmentId: r.assessmentId, submissionId: r.submissionId, choices: r.choices }] : [])) };
}

/**
 * What a rubric change would do to the submissions scored with it: per assessment using it (none scored: an empty
 * list), each such submission's percent with the rubric now and with the proposed one. Refused as the change would
 * be (`RUBRIC_LEVELS_IN_USE`). Grades at most DRY_RUN_SUBMISSIONS submissions, then says `truncated`. Reads only.
 */
export async function rubricChangeDryRun(db: Executor, id: string, input: RubricInput): Promise<Result<RubricDryRun, RubricRuleCode | "RUBRIC_NOT_FOUND" | "RUBRIC_LEVELS_IN_USE">> {
  const rules = rubricProblems(input.criteria);
  if (!rules.ok) return rules;
  const [rubric] = await db.select().from(rubrics).where(eq(rubrics.id, id));
  if (!rubric) return fail("RUBRIC_NOT_FOUND");
  const proposed = { id, version: rubric.version + 1, title: input.title, criteria: input.criteria };
  const { using, scored } = await scoredWith(db, rubric);
  const refused = inUse(input.criteria, scored);
  if (!refused.ok) return refused;
  const submissions = [...new Map(scored.map((s) => [s.submissionId, s])).values()];
  const graded = submissions.slice(0, DRY_RUN_SUBMISSIONS);
  const byAssessment = new Map<string, RubricChangeDifference>(using.map((assessmentId) => [assessmentId, { assessmentId, submissions: [] }]));
  for (const { assessmentId, submissionId } of graded) {
    const entry = byAssessment.get(assessmentId);
    if (!entry) continue;
    // Graded as the orchestration grades (the learner's attempts policy included): loaded once, scored as is and with the proposal.
    const loaded = await loadSubmission(db, submissionId);
    if (!loaded) continue;
    const now = scoreSubmission(loaded);
    const after = scoreSubmission(loaded, withRubric(loaded.rubricsNow, proposed));
    entry.submissions.push({ submissionId, userId: now.userId, before: now.grade.percent, after: after.grade.percent });
  }
  return ok({ assessments: [...byAssessment.values()], truncated: submissions.length > graded.length });
}

/**
 * Changes a rubric under its row lock (graders scoring with it take it `for share`, so no choice lands between the
 * check and the change). A change invalidating stored choices (see `invalidatedChoices`) is refused with the list.
 * Otherwise the version goes up and every assessment with submissions scored by it takes a new key version (the
 * same keys) and writes `assessment.key-changed`: the regrade orchestration then adds a grade version per graded
 * submission, computed with the rubric as it now is, never overwriting one.
 */
export async function changeRubric(
  ctx: DomainContext,
  id: string,
  input: RubricInput,
  expectedVersion: number,
): Promise<Result<{ rubric: RubricRow; regrading: string[] }, ChangeCode>> {
  const rules = rubricProblems(input.criteria);
  if (!rules.ok) return rules;
  const [current] = await ctx.db.select().from(rubrics).where(eq(rubrics.id, id)).for("update");
  if (!current) return fail("RUBRIC_NOT_FOUND");
  if (current.version !== expectedVersion) return fail("PRECONDITION_FAILED", "The rubric changed since you read it: read it again.");
  const { scored } = await scoredWith(ctx.db, current);
  const refused = inUse(input.criteria, scored);
  if (!refused.ok) return refused;
  const now = ctx.now();
  const [row] = await ctx.db
    .update(rubrics)
    .set({ title: input.title, criteria: input.criteria, version: sql`${rubrics.version} + 1`, updatedAt: now })
    .where(eq(rubrics.id, id))
    .returning();
  const affected = [...new Set(scored.map((s) => s.assessmentId))].sort();
  const regrading = affected.length ? await newKeyVersions(ctx, affected, now) : [];
  await recordAudit(ctx, {
    action: "rubric.changed",
    targetType: "rubric",
    targetId: id,
    details: { version: (row as RubricRow).version, title: input.title, regrading: regrading.map((r) => r.assessmentId) },
  });
  return ok({ rubric: row as RubricRow, regrading: regrading.map((r) => r.assessmentId) });
}

/**
 * A new key version (the same keys, copied) for each assessment, as an answer-key change makes one, so the
 * existing regrade path picks the rubric change up. Locks the assessments in id order; one statement per table.
 */
async function newKeyVersions(ctx: DomainContext, assessmentIds: string[], now: Date): Promise<{ assessmentId: string; courseId: string; keyVersion: number }[]> {
  const ids = sql`${sql.param(assessmentIds)}::uuid[]`;
  await ctx.db.select({ id: assessments.id }).from(assessments).where(sql`${assessments.id} = any(${ids})`).orderBy(assessments.id).for("update");
  await ctx.db.execute(sql`
    insert into ${assessmentKeys} (assessment_id, version, keys, created_at)
    select a.id, a.key_version + 1, coalesce(k.keys, '{}'::jsonb), ${now.toISOString()}::timestamptz
    from ${assessments} a left join ${assessmentKeys} k on k.assessment_id = a.id and k.version = a.key_version
    where a.id = any(${ids})`);
  const bumped = await ctx.db
    .update(assessments)
    .set({ keyVersion: sql`${assessments.keyVersion} + 1`, version: sql`${assessments.version} + 1`, updatedAt: now })
    .where(sql`${assessments.id} = any(${ids})`)
    .returning({ assessmentId: assessments.id, courseId: assessments.courseId, keyVersion: assessments.keyVersion });
  for (const b of bumped) {
    await recordEvent(ctx, {
      type: "assessment.key-changed",
      aggregateType: "assessment",
      aggregateId: b.assessmentId,
      courseId: b.courseId,
      data: { assessmentId: b.assessmentId, courseId: b.courseId, keyVersion: b.keyVersion },
    });
  }
  return bumped;
}
