import { asc, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { Answer, Item, ItemScore, PresentedItem } from "../db/schema/assessment-json.js";
import { assessmentStats, attempts, assessments, grades, itemAnalysisContributions, itemChoiceCounts, itemStats } from "../db/schema/index.js";
import type { ItemContribution } from "../db/schema/item-analysis.js";
import { presentedItems } from "../assessment/presented-items.js";
import { type Contribution, contributionOf } from "./contributions.js";
import { type Change, sumDeltas } from "./sum-deltas.js";

export interface AppliedGrades {
  /** Submissions whose contribution was added or replaced. */
  applied: string[];
  /**
   * Grades that changed nothing: a version no newer than the one counted, a grade of a learner's later attempt (see
   * FIRST_ATTEMPT), or a grade that no longer exists.
   */
  skipped: string[];
}

/**
 * Which attempts count: each learner's first submitted attempt on the assessment, the classical choice (Moodle's
 * quiz statistics default to it too). Repeat takers have seen the items and their feedback, so later attempts would
 * count one learner several times and inflate the facility; and the first attempt is stable (attempts run one at a
 * time, so a later one never displaces it). Its regrades still replace its share.
 */
export const FIRST_ATTEMPT = "first" as const;

/**
 * Counts published grades in the item-analysis sums, exactly once per grade: a submission's newest grade version
 * counts; a newer version takes the old contribution out and puts its own in, the same or an older one changes
 * nothing (so redelivered and reordered events are harmless). Set-based: a handful of statements per batch.
 */
export async function applyGrades(db: Executor, gradeIds: string[]): Promise<AppliedGrades> {
  const ids = [...new Set(gradeIds)];
  if (ids.length === 0) return { applied: [], skipped: [] };
  const rows = await db
    .select({
      gradeId: grades.id,
      submissionId: grades.submissionId,
      assessmentId: grades.assessmentId,
      version: grades.version,
      itemScores: grades.itemScores,
      attemptItems: attempts.items,
      answers: attempts.answers,
      itemSeconds: attempts.itemSeconds,
      assessmentItems: assessments.items,
      // the attempts_assessment_id_user_id_number_idx index answers this per row
      firstAttempt: sql<boolean>`not exists (select 1 from attempts earlier where earlier.assessment_id = ${attempts.assessmentId}
        and earlier.user_id = ${attempts.userId} and earlier.status = 'submitted' and earlier.number < ${attempts.number})`,
    })
    .from(grades)
    .innerJoin(attempts, sql`${attempts.id} = ${grades.submissionId}`)
    .innerJoin(assessments, sql`${assessments.id} = ${grades.assessmentId}`)
    .where(sql`${grades.id} = any(${sql.param(ids)}::uuid[])`);

  // Only learners' first attempts count; per submission, only the batch's newest version can.
  const newest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) if (r.firstAttempt && (newest.get(r.submissionId)?.version ?? 0) < r.version) newest.set(r.submissionId, r);
  const candidates = [...newest.values()].sort((a, b) => (a.submissionId < b.submissionId ? -1 : 1));
  if (candidates.length === 0) return { applied: [], skipped: ids };
  const submissionIds = candidates.map((c) => c.submissionId);

  // A version-0 placeholder makes every submission's row exist, so the lock below covers first grades too: two
  // batches racing on a first grade queue on the row instead of both counting it.
  await db
    .insert(itemAnalysisContributions)
    .values(candidates.map((c) => ({ submissionId: c.submissionId, assessmentId: c.assessmentId, gradeId: c.gradeId, gradeVersion: 0, total: 0, items: [] })))
    .onConflictDoNothing();
  const counted = await db
    .select({ submissionId: itemAnalysisContributions.submissionId, gradeVersion: itemAnalysisContributions.gradeVersion, total: itemAnalysisContributions.total, items: itemAnalysisContributions.items })
    .from(itemAnalysisContributions)
    .where(sql`${itemAnalysisContributions.submissionId} = any(${sql.param(submissionIds)}::uuid[])`)
    .orderBy(asc(itemAnalysisContributions.submissionId))
    .for("update");
  const current = new Map(counted.map((c) => [c.submissionId, c]));

  const changes: (Change & { row: (typeof candidates)[number] })[] = [];
  for (const row of candidates) {
    const before = current.get(row.submissionId);
    if (before && before.gradeVersion >= row.version) continue;
    const added = contributionOf({
      items: presentedItems({ items: row.attemptItems as PresentedItem[] | null }, { items: row.assessmentItems as Item[] }),
      itemScores: row.itemScores as ItemScore[],
      answers: row.answers as Record<string, Answer>,
      itemSeconds: row.itemSeconds as Record<string, number>,
    });
    const removed: Contribution | null = before && before.gradeVersion > 0 ? { total: before.total, items: before.items as ItemContribution[] } : null;
    changes.push({ assessmentId: row.assessmentId, removed, added, row });
  }
  const applied = new Set(changes.map((c) => c.row.submissionId));
  const skipped = ids.filter((id) => !changes.some((c) => c.row.gradeId === id));
  if (changes.length === 0) return { applied: [], skipped };

  await db
    .insert(itemAnalysisContributions)
    .values(changes.map((c) => ({ submissionId: c.row.submissionId, assessmentId: c.assessmentId, gradeId: c.row.gradeId, gradeVersion: c.row.version, total: c.added.total, items: c.added.items })))
    .onConflictDoUpdate({
      target: itemAnalysisContributions.submissionId,
      set: { gradeId: sql`excluded.grade_id`, gradeVersion: sql`excluded.grade_version`, total: sql`excluded.total`, items: sql`excluded.items`, appliedAt: sql`now()` },
    });

  const deltas = sumDeltas(changes);
  if (deltas.items.length > 0) {
    await db
      .insert(itemStats)
      .values(deltas.items)
      .onConflictDoUpdate({
        target: [itemStats.assessmentId, itemStats.itemId, itemStats.itemVersion],
        set: {
          itemType: sql`excluded.item_type`,
          maxPoints: sql`excluded.max_points`,
          n: sql`${itemStats.n} + excluded.n`,
          sumMax: sql`${itemStats.sumMax} + excluded.sum_max`,
          sumScore: sql`${itemStats.sumScore} + excluded.sum_score`,
          sumScoreSq: sql`${itemStats.sumScoreSq} + excluded.sum_score_sq`,
          sumRest: sql`${itemStats.sumRest} + excluded.sum_rest`,
          sumRestSq: sql`${itemStats.sumRestSq} + excluded.sum_rest_sq`,
          sumScoreRest: sql`${itemStats.sumScoreRest} + excluded.sum_score_rest`,
          timeN: sql`${itemStats.timeN} + excluded.time_n`,
          timeSum: sql`${itemStats.timeSum} + excluded.time_sum`,
          updatedAt: sql`now()`,
        },
      });
  }
  if (deltas.choices.length > 0) {
    await db
      .insert(itemChoiceCounts)
      .values(deltas.choices)
      .onConflictDoUpdate({ target: [itemChoiceCounts.assessmentId, itemChoiceCounts.itemId, itemChoiceCounts.itemVersion, itemChoiceCounts.choiceId], set: { picks: sql`${itemChoiceCounts.picks} + excluded.picks` } });
  }
  await db
    .insert(assessmentStats)
    .values(deltas.assessments)
    .onConflictDoUpdate({
      target: assessmentStats.assessmentId,
      set: { n: sql`${assessmentStats.n} + excluded.n`, sumTotal: sql`${assessmentStats.sumTotal} + excluded.sum_total`, sumTotalSq: sql`${assessmentStats.sumTotalSq} + excluded.sum_total_sq`, updatedAt: sql`now()` },
    });
  return { applied: [...applied], skipped };
}
