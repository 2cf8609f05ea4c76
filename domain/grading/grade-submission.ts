import { and, asc, desc, eq, max, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessmentExtensions, assessmentKeys, assessments, attempts, attendancePolicies, gradeCategories, grades, manualScores } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type FinalGrade, finalGrade } from "./final-grade.js";
import { isManual } from "./items.js";
import { inStaffScope } from "../sections/staff-scope.js";
import { answered, type ItemScore, scoreItems, type ScoringRubrics } from "./score-items.js";
import type { ScoringRubric } from "./rubric-score.js";
import { bankKeys, keysFor, presentedItems } from "../assessment/presented-items.js";
import { attachedRubrics } from "./attached-rubrics.js";
import { rubricScores } from "../rubrics/rubric-scores.js";
import type { CriterionChoice } from "../rubrics/rubric-rules.js";

export interface GradingOutcome {
  submissionId: string;
  assessmentId: string;
  courseId: string;
  userId: string;
  keyVersion: number;
  /** The submission's own item scores. */
  itemScores: ItemScore[];
  /** Across the learner's submitted attempts, by the assessment's scoring policy. */
  grade: FinalGrade;
  /** Manual items still waiting for a grader on this submission. */
  waitingItems: string[];
}

/** What grading a submission reads (see `loadSubmission`); `scoreSubmission` computes the grade from it without a query. */
export interface LoadedSubmission {
  submissionId: string;
  row: {
    sub: typeof attempts.$inferSelect;
    a: typeof assessments.$inferSelect;
    keys: (typeof assessmentKeys.$inferSelect)["keys"] | null;
    extendedDue: (typeof assessmentExtensions.$inferSelect)["dueAt"] | null;
    categoryWeight: (typeof gradeCategories.$inferSelect)["weightPercent"] | null;
    peers: number;
  };
  all: (typeof attempts.$inferSelect)[];
  manual: Pick<typeof manualScores.$inferSelect, "submissionId" | "itemId" | "points" | "feedback" | "rubric">[];
  /** The rubrics attached to the assessment, as they are now. */
  rubricsNow: ScoringRubrics;
  /** Keys of the bank versions drawn items came from. */
  drawn: Awaited<ReturnType<typeof bankKeys>>;
}

/**
 * Loads a submission with the assessment, its current key and every submitted attempt of the learner: everything
 * grading reads. Null when the submission is not submitted (or does not exist).
 * Three statements whatever the attempt count: the submission with everything it joins to one row, then its
 * learner's submitted attempts and their manual scores (issued together, so inside a transaction postgres.js
 * pipelines them on the one connection); one more when something was drawn from a bank.
 */
export async function loadSubmission(db: Executor, submissionId: string): Promise<LoadedSubmission | null> {
  const [row] = await db
    .select({
      sub: attempts,
      a: assessments,
      keys: assessmentKeys.keys,
      extendedDue: assessmentExtensions.dueAt,
      categoryWeight: gradeCategories.weightPercent,
      // Assessments sharing the category (the category's weight is split between them), for the explanation; the
      // attendance rate is one more result where the course's attendance policy grades it in this category.
      peers: sql<number>`(select count(*)::int from ${assessments} as peer where peer.course_id = ${assessments.courseId} and peer.category = ${assessments.category})
        + (select count(*)::int from ${attendancePolicies} as ap where ap.course_id = ${assessments.courseId} and ap.grade_category = ${assessments.category})`,
    })
    .from(attempts)
    .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
    .leftJoin(assessmentKeys, and(eq(assessmentKeys.assessmentId, assessments.id), eq(assessmentKeys.version, assessments.keyVersion)))
    .leftJoin(assessmentExtensions, and(eq(assessmentExtensions.assessmentId, assessments.id), eq(assessmentExtensions.userId, attempts.userId)))
    .leftJoin(gradeCategories, and(eq(gradeCategories.courseId, assessments.courseId), eq(gradeCategories.name, assessments.category)))
    .where(eq(attempts.id, submissionId));
  if (!row || row.sub.status !== "submitted") return null;
  const { sub, a } = row;
  const learnerSubmitted = and(eq(attempts.assessmentId, a.id), eq(attempts.userId, sub.userId), eq(attempts.status, "submitted"));
  const [all, manual, rubricsNow] = await Promise.all([
    db.select().from(attempts).where(learnerSubmitted).orderBy(asc(attempts.number)),
    db
      .select({ submissionId: manualScores.submissionId, itemId: manualScores.itemId, points: manualScores.points, feedback: manualScores.feedback, rubric: manualScores.rubric })
      .from(manualScores)
      .innerJoin(attempts, eq(attempts.id, manualScores.submissionId))
      .where(learnerSubmitted),
    attachedRubrics(db, a.rubrics),
  ]);
  // Drawn items are scored with the key of the bank version the attempt saw (one more query, only when something was drawn).
  const drawn = await bankKeys(db, all.flatMap((attempt) => attempt.items ?? []));
  return { submissionId, row, all, manual, rubricsNow, drawn };
}

/**
 * Computes a loaded submission's grade with the pure domain functions, scoring rubric choices with `rubrics`
 * (the attached rubrics as they are now, unless a rubric change's dry run proposes another version). No query.
 */
export function scoreSubmission(loaded: LoadedSubmission, rubrics: ScoringRubrics = loaded.rubricsNow): GradingOutcome {
  const { submissionId, row, all, manual, drawn } = loaded;
  const { sub, a } = row;
  const scored = all.map((attempt) => {
    const m = Object.fromEntries(manual.filter((s) => s.submissionId === attempt.id).map((s) => [s.itemId, { points: s.points, feedback: s.feedback, rubric: s.rubric }]));
    const items = presentedItems(attempt, a);
    return { attemptId: attempt.id, submittedAt: attempt.submittedAt as Date, items: scoreItems(items, keysFor(items, row.keys ?? {}, drawn), attempt.answers, m, rubrics) };
  });
  const own = scored.find((s) => s.attemptId === submissionId);
  const grade = finalGrade({
    attempts: scored,
    due: a.dueAt,
    extendedDue: row.extendedDue ?? null,
    late: a.latePolicy,
    scoring: a.scoringPolicy,
    ...(row.categoryWeight !== null ? { contribution: { category: a.category, categoryWeightPercent: row.categoryWeight, itemsInCategory: row.peers ?? 1 } } : {}),
  });
  return {
    submissionId,
    assessmentId: a.id,
    courseId: a.courseId,
    userId: sub.userId,
    keyVersion: a.keyVersion,
    itemScores: own?.items ?? [],
    grade,
    waitingItems: (own?.items ?? []).filter((i) => i.status === "needs-grader").map((i) => i.itemId),
  };
}

/**
 * Loads a submission (`loadSubmission`) and computes the grade (`scoreSubmission`). Reads only; recording is separate.
 */
export async function gradeSubmission(db: Executor, submissionId: string): Promise<GradingOutcome | null> {
  const loaded = await loadSubmission(db, submissionId);
  return loaded && scoreSubmission(loaded);
}

/** The attached rubrics with one replaced by a proposed version of it (a rubric change's dry run). */
export const withRubric = (attached: ScoringRubrics, proposed: ScoringRubric): ScoringRubrics => ({
  items: Object.fromEntries(Object.entries(attached.items).map(([itemId, r]) => [itemId, r.id === proposed.id ? proposed : r])),
  whole: attached.whole?.id === proposed.id ? proposed : attached.whole,
});

/**
 * Records a grade version once: a retried activity finds it recorded and changes nothing. The first
 * recording writes `grade.published`.
 */
export async function recordGrade(ctx: DomainContext, outcome: GradingOutcome, version: number): Promise<Result<{ gradeId: string; first: boolean }, "GRADE_PENDING">> {
  if (outcome.grade.status !== "final" || outcome.grade.percent === null) return fail("GRADE_PENDING", "Manual items wait for a grader.");
  const id = ctx.newId();
  const [inserted] = await ctx.db
    .insert(grades)
    .values({
      id,
      submissionId: outcome.submissionId,
      assessmentId: outcome.assessmentId,
      courseId: outcome.courseId,
      userId: outcome.userId,
      version,
      keyVersion: outcome.keyVersion,
      percent: outcome.grade.percent,
      itemScores: outcome.itemScores,
      explanation: outcome.grade.steps,
      createdAt: ctx.now(),
    })
    .onConflictDoNothing()
    .returning({ id: grades.id });
  if (!inserted) {
    const [existing] = await ctx.db.select({ id: grades.id }).from(grades).where(and(eq(grades.submissionId, outcome.submissionId), eq(grades.version, version)));
    return ok({ gradeId: existing?.id as string, first: false });
  }
  await recordAudit(ctx, { action: "grade.recorded", targetType: "submission", targetId: outcome.submissionId, details: { gradeId: id, version, percent: outcome.grade.percent, keyVersion: outcome.keyVersion } });
  await recordEvent(ctx, {
    type: "grade.published",
    aggregateType: "submission",
    aggregateId: outcome.submissionId,
    courseId: outcome.courseId,
    data: { gradeId: id, submissionId: outcome.submissionId, assessmentId: outcome.assessmentId, courseId: outcome.courseId, userId: outcome.userId, version, percent: outcome.grade.percent },
  });
  return ok({ gradeId: id, first: true });
}

export type AutoGradeOutcome =
  | { kind: "recorded"; gradeId: string; first: boolean; percent: number | null }
  | { kind: "needs-grader"; waitingItems: string[]; courseId: string; assessmentId: string };

/**
 * Grades a submission and, when no item waits for a person, records the grade version in the same
 * transaction: the whole automatic path in one unit of work. With items waiting for a grader it records
 * nothing and says which. Null when the submission is not submitted (or does not exist).
 */
export async function gradeAndRecord(ctx: DomainContext, submissionId: string, version: number): Promise<Result<AutoGradeOutcome, "GRADE_PENDING"> | null> {
  const outcome = await gradeSubmission(ctx.db, submissionId);
  if (!outcome) return null;
  if (outcome.waitingItems.length > 0) return ok({ kind: "needs-grader", waitingItems: outcome.waitingItems, courseId: outcome.courseId, assessmentId: outcome.assessmentId });
  const recorded = await recordGrade(ctx, outcome, version);
  if (!recorded.ok) return recorded;
  return ok({ kind: "recorded", gradeId: recorded.value.gradeId, first: recorded.value.first, percent: outcome.grade.percent });
}

export async function nextGradeVersion(db: Executor, submissionId: string): Promise<number> {
  const [r] = await db.select({ v: max(grades.version) }).from(grades).where(eq(grades.submissionId, submissionId));
  return (r?.v ?? 0) + 1;
}

/** A grader's score of one manual item: points, or rubric choices (whose points the rubric decides). */
export interface ManualScoreInput {
  itemId: string;
  points?: number | undefined;
  rubric?: { criteria: CriterionChoice[] } | undefined;
  feedback: string;
}

/**
 * A grader's per-item scores and feedback for the manual items of a submission: points, or choices on the rubric
 * attached to the item, and `wholeRubric` for the assessment's whole rubric (every manual item it scores). A rubric
 * score stores the choices and, as points, the rubric's share now. One statement writes every score.
 */
export async function submitManualScores(
  ctx: DomainContext,
  submissionId: string,
  scores: ManualScoreInput[],
  wholeRubric?: { criteria: CriterionChoice[] },
): Promise<Result<{ waitingItems: string[] }, "ATTEMPT_NOT_FOUND" | "INVALID_ANSWER" | "INVALID_RUBRIC_CHOICES">> {
  const [sub] = await ctx.db.select().from(attempts).where(eq(attempts.id, submissionId));
  if (!sub || sub.status !== "submitted") return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  // A grader scoped to sections grades only their sections' learners; others' work is not found, as another course's is.
  if (ctx.actor.userId && !(await inStaffScope(ctx.db, sub.courseId, ctx.actor.userId, sub.userId))) return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  // `for share`: the attachments cannot change (attachRubrics locks the row) between this read and the scores' commit.
  const [a] = await ctx.db.select({ items: assessments.items, rubrics: assessments.rubrics }).from(assessments).where(eq(assessments.id, sub.assessmentId)).for("share");
  const manualList = presentedItems(sub, { items: a?.items ?? [] }).filter(isManual);
  const manualItems = new Map(manualList.map((i) => [i.id, i]));
  const bad = scores.filter(
    (s, i) =>
      !manualItems.has(s.itemId) ||
      scores.findIndex((o) => o.itemId === s.itemId) !== i ||
      (s.points === undefined) === (s.rubric === undefined) ||
      (s.points !== undefined && (s.points < 0 || s.points > (manualItems.get(s.itemId)?.points ?? 0))),
  );
  if (bad.length) return fail("INVALID_ANSWER", `Not manual items of this assessment, repeated, points out of range, or not exactly one of points and rubric: ${bad.map((b) => b.itemId).join(", ")}`);
  const byRubric = await rubricScores(
    ctx.db,
    a?.rubrics ?? { items: {}, whole: null },
    manualList,
    sub.answers,
    scores.flatMap((s) => (s.rubric ? [{ itemId: s.itemId, criteria: s.rubric.criteria }] : [])),
    wholeRubric?.criteria,
  );
  if (!byRubric.ok) return byRubric;
  const feedbackOf = new Map(scores.map((s) => [s.itemId, s.feedback]));
  const rows = [
    ...scores.flatMap((s) => (s.points !== undefined ? [{ itemId: s.itemId, points: s.points, rubric: null }] : [])),
    ...byRubric.value.map((r) => ({ itemId: r.itemId, points: r.points, rubric: r.rubric })),
  ];
  if (rows.length === 0) return fail("INVALID_ANSWER", "Nothing to score: the whole rubric scores no manual item of this submission.");
  const now = ctx.now();
  await ctx.db
    .insert(manualScores)
    .values(rows.map((r) => ({ submissionId, itemId: r.itemId, points: r.points, feedback: feedbackOf.get(r.itemId) ?? "", rubric: r.rubric, graderUserId: ctx.actor.userId, createdAt: now, updatedAt: now })))
    .onConflictDoUpdate({
      target: [manualScores.submissionId, manualScores.itemId],
      set: { points: sql`excluded.points`, feedback: sql`excluded.feedback`, rubric: sql`excluded.rubric`, graderUserId: ctx.actor.userId, updatedAt: now },
    });
  await recordAudit(ctx, {
    action: "grade.manual-scored",
    targetType: "submission",
    targetId: submissionId,
    details: { items: rows.map((r) => ({ itemId: r.itemId, points: r.points, ...(r.rubric ? { rubricId: r.rubric.rubricId } : {}) })) },
  });
  const done = await ctx.db.select({ itemId: manualScores.itemId }).from(manualScores).where(eq(manualScores.submissionId, submissionId));
  const scored = new Set(done.map((d) => d.itemId));
  return ok({ waitingItems: [...manualItems.keys()].filter((id) => !scored.has(id) && answered(sub.answers[id])) });
}

export interface RegradeDifference {
  submissionId: string;
  userId: string;
  before: number | null;
  after: number | null;
  keyVersionBefore: number | null;
  keyVersionAfter: number;
}

/** What regrading a submission with the current key would change; reads only (`graded`: its grading, if already read). */
export async function regradeDifference(db: Executor, submissionId: string, graded?: GradingOutcome | null): Promise<RegradeDifference | null> {
  const outcome = graded === undefined ? await gradeSubmission(db, submissionId) : graded;
  if (!outcome) return null;
  const [latest] = await db
    .select({ percent: grades.percent, keyVersion: grades.keyVersion })
    .from(grades)
    .where(eq(grades.submissionId, submissionId))
    .orderBy(desc(grades.version))
    .limit(1);
  return {
    submissionId,
    userId: outcome.userId,
    before: latest?.percent ?? null,
    after: outcome.grade.percent,
    keyVersionBefore: latest?.keyVersion ?? null,
    keyVersionAfter: outcome.keyVersion,
  };
}
