import { and, asc, count, desc, eq, max } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessmentExtensions, assessmentKeys, assessments, attempts, gradeCategories, grades, manualScores } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type FinalGrade, finalGrade } from "./final-grade.js";
import { isManual } from "./items.js";
import { type ItemScore, scoreItems } from "./score-items.js";

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

/**
 * Loads a submission with the assessment, its current key and every submitted attempt of the learner, and
 * computes the grade with the pure domain functions. Reads only; recording is separate.
 */
export async function gradeSubmission(db: Executor, submissionId: string): Promise<GradingOutcome | null> {
  const [sub] = await db.select().from(attempts).where(eq(attempts.id, submissionId));
  if (!sub || sub.status !== "submitted") return null;
  const [a] = await db.select().from(assessments).where(eq(assessments.id, sub.assessmentId));
  if (!a) return null;
  const [key] = await db
    .select()
    .from(assessmentKeys)
    .where(and(eq(assessmentKeys.assessmentId, a.id), eq(assessmentKeys.version, a.keyVersion)));
  const [ext] = await db
    .select()
    .from(assessmentExtensions)
    .where(and(eq(assessmentExtensions.assessmentId, a.id), eq(assessmentExtensions.userId, sub.userId)));
  const all = await db
    .select()
    .from(attempts)
    .where(and(eq(attempts.assessmentId, a.id), eq(attempts.userId, sub.userId), eq(attempts.status, "submitted")))
    .orderBy(asc(attempts.number));
  const manual = await db.select().from(manualScores).where(eq(manualScores.submissionId, submissionId));
  const manualFor = async (attemptId: string) =>
    attemptId === submissionId ? manual : await db.select().from(manualScores).where(eq(manualScores.submissionId, attemptId));
  const scored = [];
  for (const attempt of all) {
    const m = Object.fromEntries((await manualFor(attempt.id)).map((s) => [s.itemId, { points: s.points, feedback: s.feedback }]));
    scored.push({ attemptId: attempt.id, submittedAt: attempt.submittedAt as Date, items: scoreItems(a.items, key?.keys ?? {}, attempt.answers, m) });
  }
  const own = scored.find((s) => s.attemptId === submissionId);
  // The category's weight, shared by the assessments in it, for the last step of the explanation.
  const [category] = await db
    .select({ weight: gradeCategories.weightPercent })
    .from(gradeCategories)
    .where(and(eq(gradeCategories.courseId, a.courseId), eq(gradeCategories.name, a.category)));
  const [peers] = await db
    .select({ n: count() })
    .from(assessments)
    .where(and(eq(assessments.courseId, a.courseId), eq(assessments.category, a.category)));
  const grade = finalGrade({
    attempts: scored,
    due: a.dueAt,
    extendedDue: ext?.dueAt ?? null,
    late: a.latePolicy,
    scoring: a.scoringPolicy,
    ...(category ? { contribution: { category: a.category, categoryWeightPercent: category.weight, itemsInCategory: peers?.n ?? 1 } } : {}),
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

export async function nextGradeVersion(db: Executor, submissionId: string): Promise<number> {
  const [r] = await db.select({ v: max(grades.version) }).from(grades).where(eq(grades.submissionId, submissionId));
  return (r?.v ?? 0) + 1;
}

/** A grader's per-item scores and feedback for the manual items of a submission. */
export async function submitManualScores(
  ctx: DomainContext,
  submissionId: string,
  scores: { itemId: string; points: number; feedback: string }[],
): Promise<Result<{ waitingItems: string[] }, "ATTEMPT_NOT_FOUND" | "INVALID_ANSWER">> {
  const [sub] = await ctx.db.select().from(attempts).where(eq(attempts.id, submissionId));
  if (!sub || sub.status !== "submitted") return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  const [a] = await ctx.db.select().from(assessments).where(eq(assessments.id, sub.assessmentId));
  const manualItems = new Map((a?.items ?? []).filter(isManual).map((i) => [i.id, i]));
  const bad = scores.filter((s) => !manualItems.has(s.itemId) || s.points < 0 || s.points > (manualItems.get(s.itemId)?.points ?? 0));
  if (bad.length) return fail("INVALID_ANSWER", `Not manual items of this assessment, or points out of range: ${bad.map((b) => b.itemId).join(", ")}`);
  const now = ctx.now();
  for (const s of scores) {
    await ctx.db
      .insert(manualScores)
      .values({ submissionId, itemId: s.itemId, points: s.points, feedback: s.feedback, graderUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: [manualScores.submissionId, manualScores.itemId], set: { points: s.points, feedback: s.feedback, graderUserId: ctx.actor.userId, updatedAt: now } });
  }
  await recordAudit(ctx, { action: "grade.manual-scored", targetType: "submission", targetId: submissionId, details: { items: scores.map((s) => ({ itemId: s.itemId, points: s.points })) } });
  const done = await ctx.db.select({ itemId: manualScores.itemId }).from(manualScores).where(eq(manualScores.submissionId, submissionId));
  const scored = new Set(done.map((d) => d.itemId));
  return ok({ waitingItems: [...manualItems.keys()].filter((id) => !scored.has(id) && sub.answers[id] !== undefined && sub.answers[id] !== null && sub.answers[id] !== "") });
}

export interface RegradeDifference {
  submissionId: string;
  userId: string;
  before: number | null;
  after: number | null;
  keyVersionBefore: number | null;
  keyVersionAfter: number;
}

/** What regrading a submission with the current key would change; reads only. */
export async function regradeDifference(db: Executor, submissionId: string): Promise<RegradeDifference | null> {
  const outcome = await gradeSubmission(db, submissionId);
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
