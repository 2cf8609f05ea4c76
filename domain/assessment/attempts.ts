import { randomBytes } from "node:crypto";
import { and, count, eq, getTableColumns, isNotNull, lt, lte, ne, sql } from "drizzle-orm";
import type { PresentedItem } from "../db/schema/assessment-json.js";
import { assessmentDrawBanks, assessmentExtensions, assessments, attempts, drawCandidateSets } from "../db/schema/index.js";
import type { Answer, Item } from "../grading/items.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AssessmentErrorCode } from "./assessment.errors.js";
import { answerFilePrefix } from "./answer-files.js";
import { type DrawInput, drawItems, drawsPerAttempt, pickDraw } from "./draw.js";
import { type AssessmentRow, findAssessment } from "./manage-assessment.js";
import { bankVersions, poolCandidates } from "./pools.js";
import { learnerItems, presentedItems } from "./presented-items.js";

export type AttemptRow = typeof attempts.$inferSelect;

/** An attempt's columns but its items and draw (which an autosave neither needs nor answers). */
const { items: _items, draw: _draw, ...savedColumns } = getTableColumns(attempts);
type SavedAttempt = Omit<AttemptRow, "items" | "draw">;

async function extensionOf(ctx: DomainContext, assessmentId: string, userId: string) {
  const [row] = await ctx.db
    .select()
    .from(assessmentExtensions)
    .where(and(eq(assessmentExtensions.assessmentId, assessmentId), eq(assessmentExtensions.userId, userId)));
  return row ?? null;
}

/**
 * Starts an attempt. The server fixes its deadline: min(start + time limit, lock), the learner's extension
 * moving the lock. Refused before the assessment opens, after it locks, and beyond the attempt limit; an
 * attempt already in progress is returned rather than a second one started. An assessment with pools or shuffling
 * gives the attempt its own items here, from a fresh random seed, stored with the draw (`POOL_EXHAUSTED` when a
 * pool no longer has enough approved items: nothing is stored). Answers the attempt with its presented items.
 */
export async function startAttempt(ctx: DomainContext, assessmentId: string, userId: string): Promise<Result<{ attempt: AttemptRow; items: PresentedItem[] }, AssessmentErrorCode>> {
  const a = await findAssessment(ctx.db, assessmentId);
  if (!a) return fail("ASSESSMENT_NOT_FOUND");
  // One learner's attempts on one assessment are numbered one at a time.
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`attempts:${assessmentId}:${userId}`}, 0))`);
  const now = ctx.now();
  const ext = await extensionOf(ctx, assessmentId, userId);
  const lockAt = ext?.lockAt ?? a.lockAt;
  if (a.availableFrom && now < a.availableFrom) return fail("ASSESSMENT_NOT_AVAILABLE", "The assessment has not opened yet.", { availableFrom: a.availableFrom.toISOString() });
  if (lockAt && now >= lockAt) return fail("ASSESSMENT_LOCKED", "The assessment is closed.");
  const [open] = await ctx.db
    .select()
    .from(attempts)
    .where(and(eq(attempts.assessmentId, assessmentId), eq(attempts.userId, userId), eq(attempts.status, "in-progress")));
  if (open) return ok({ attempt: open, items: learnerItems(presentedItems(open, a)) });
  const [used] = await ctx.db.select({ n: count() }).from(attempts).where(and(eq(attempts.assessmentId, assessmentId), eq(attempts.userId, userId)));
  const number = (used?.n ?? 0) + 1;
  if (a.attemptsAllowed !== null && number > a.attemptsAllowed) return fail("ATTEMPTS_EXHAUSTED", `All ${a.attemptsAllowed} attempts are used.`);
  const byTime = a.timeLimitMinutes ? new Date(now.getTime() + a.timeLimitMinutes * 60_000) : null;
  const deadlineAt = byTime && lockAt ? (byTime < lockAt ? byTime : lockAt) : (byTime ?? lockAt ?? null);
  const drawn = await drawFor(ctx, a);
  if (!drawn.ok) return drawn;
  const [row] = await ctx.db
    .insert(attempts)
    .values({ id: ctx.newId(), assessmentId, courseId: a.courseId, userId, number, startedAt: now, deadlineAt, ...drawn.value, createdAt: now, updatedAt: now })
    .returning();
  return ok({ attempt: row as AttemptRow, items: learnerItems(presentedItems(row as AttemptRow, a)) });
}

/**
 * A new attempt's own items and draw (crypto-random seed), or nothing when the assessment neither draws nor shuffles.
 * Each pool's candidate list is stored once (`draw_candidate_sets`, by hash; the draw names it), and the banks drawn
 * from are recorded against the assessment so none of them can be deleted while these attempts need its versions.
 */
async function drawFor(ctx: DomainContext, a: AssessmentRow): Promise<Result<Pick<AttemptRow, "items" | "draw">, AssessmentErrorCode>> {
  if (!drawsPerAttempt(a)) return ok({ items: null, draw: null });
  const candidates = await poolCandidates(ctx.db, a.courseId, a.pools);
  const input: DrawInput = {
    seed: randomBytes(4).readUInt32BE(0),
    fixed: a.items,
    pools: a.pools.map((pool, i) => ({ pool, candidates: candidates[i] ?? [] })),
    shuffleItems: a.shuffleItems,
    shuffleChoices: a.shuffleChoices,
  };
  // Which versions the seed picks first, so only their content is read; then the draw itself goes on from that pick.
  const sources = pickDraw(input);
  const outcome = sources.ok ? drawItems(input, new Map([...(await bankVersions(ctx.db, sources.drawn))].map(([k, v]) => [k, v.item])), sources) : sources;
  if (!outcome.ok) {
    const s = outcome.shortfall;
    return fail("POOL_EXHAUSTED", `Pool ${s.poolId} needs ${s.count} items and ${s.available} are approved and matching now.`, { ...s });
  }
  const sets = new Map(input.pools.map((p, i) => [outcome.draw.pools[i]?.candidateSet as string, p.candidates]));
  if (sets.size) {
    await ctx.db
      .insert(drawCandidateSets)
      .values([...sets].map(([hash, list]) => ({ hash, candidates: list })))
      .onConflictDoNothing();
    // The foreign key takes a key-share lock on each bank: a racing delete waits for this start, then is refused.
    const banks = [...new Set(outcome.draw.pools.flatMap((p) => p.drawn.map((s) => s.bankId)))];
    if (banks.length) await ctx.db.insert(assessmentDrawBanks).values(banks.map((bankId) => ({ assessmentId: a.id, bankId }))).onConflictDoNothing();
  }
  return ok({ items: outcome.items, draw: outcome.draw });
}

function validAnswer(item: Item, answer: Answer, filePrefix: string): boolean {
  if (answer === null) return true;
  switch (item.type) {
    case "single":
      return typeof answer === "string" && item.choices.some((c) => c.id === answer);
    case "multiple":
      return Array.isArray(answer) && answer.every((x) => item.choices.some((c) => c.id === x));
    case "true-false":
      return typeof answer === "boolean";
    case "numeric":
      return typeof answer === "number" && Number.isFinite(answer);
    case "short-text":
    case "essay":
      return typeof answer === "string" && answer.length <= 100_000;
    case "file":
      // Only a blob this attempt was given an upload URL for: never someone else's file.
      return typeof answer === "string" && answer.startsWith(`${filePrefix}${item.id}/`) && !answer.includes("..");
  }
}

/**
 * Saves answers (merged over earlier ones) while the attempt is open, up to its deadline, for the items the attempt
 * presents only. `itemSeconds` (what the learner's client timed per item) is added to what earlier saves reported,
 * each item's total capped at the time since the attempt started.
 */
export async function saveAnswers(
  ctx: DomainContext,
  attemptId: string,
  answers: Record<string, Answer>,
  itemSeconds: Record<string, number> = {},
): Promise<Result<SavedAttempt, AssessmentErrorCode>> {
  // Not `draw` (staff's record of the draw): an autosave needs only what it checks and merges.
  const [row] = await ctx.db
    .select({
      id: attempts.id,
      assessmentId: attempts.assessmentId,
      courseId: attempts.courseId,
      status: attempts.status,
      startedAt: attempts.startedAt,
      deadlineAt: attempts.deadlineAt,
      items: attempts.items,
      answers: attempts.answers,
      itemSeconds: attempts.itemSeconds,
    })
    .from(attempts)
    .where(eq(attempts.id, attemptId))
    .for("update");
  if (!row) return fail("ATTEMPT_NOT_FOUND");
  const now = ctx.now();
  if (row.status !== "in-progress" || (row.deadlineAt && now > row.deadlineAt)) return fail("ATTEMPT_CLOSED", "The attempt is closed.");
  const [a] = await ctx.db.select({ items: assessments.items }).from(assessments).where(eq(assessments.id, row.assessmentId));
  const items = new Map(presentedItems(row, { items: a?.items ?? [] }).map((i) => [i.id, i]));
  const prefix = answerFilePrefix(row.courseId, row.id);
  const problems = [
    ...Object.entries(answers).filter(([id, ans]) => !items.has(id) || !validAnswer(items.get(id) as Item, ans, prefix)).map(([id]) => id),
    ...Object.keys(itemSeconds).filter((id) => !items.has(id) && !(id in answers)),
  ];
  if (problems.length) return fail("INVALID_ANSWER", `Not valid answers for: ${problems.join(", ")}`, { items: problems });
  // No item can have taken longer than the attempt has been open: each total is capped at the time since its start.
  const elapsed = Math.max(0, (now.getTime() - row.startedAt.getTime()) / 1000);
  const seconds = { ...row.itemSeconds };
  for (const [id, s] of Object.entries(itemSeconds)) seconds[id] = Math.min(elapsed, (seconds[id] ?? 0) + s);
  const [saved] = await ctx.db
    .update(attempts)
    .set({ answers: { ...row.answers, ...answers }, itemSeconds: seconds, updatedAt: now })
    .where(eq(attempts.id, attemptId))
    .returning(savedColumns);
  return ok(saved as SavedAttempt);
}

/**
 * Submits an attempt once. After its deadline it counts as submitted at the deadline, by the deadline:
 * what was saved in time is what is graded. Writes `submission.submitted`.
 */
export async function submitAttempt(ctx: DomainContext, attemptId: string, by: "learner" | "deadline"): Promise<Result<{ attempt: AttemptRow; first: boolean }, AssessmentErrorCode>> {
  const now = ctx.now();
  // One statement closes an open attempt (its row lock serialises a concurrent submit, which then finds it
  // submitted); past the deadline, the attempt counts as submitted at the deadline, by the deadline.
  const pastDeadline = and(isNotNull(attempts.deadlineAt), lt(attempts.deadlineAt, now));
  const [done] = await ctx.db
    .update(attempts)
    .set({
      status: "submitted",
      submittedAt: sql`case when ${pastDeadline} then ${attempts.deadlineAt} else ${now.toISOString()}::timestamptz end`,
      submittedBy: sql`case when ${pastDeadline} then 'deadline' else ${by} end`,
      updatedAt: now,
    })
    .where(and(eq(attempts.id, attemptId), ne(attempts.status, "submitted")))
    .returning();
  if (!done) {
    const [row] = await ctx.db.select().from(attempts).where(eq(attempts.id, attemptId));
    return row ? ok({ attempt: row, first: false }) : fail("ATTEMPT_NOT_FOUND");
  }
  const submittedAt = done.submittedAt as Date;
  await recordEvent(ctx, {
    type: "submission.submitted",
    aggregateType: "submission",
    aggregateId: attemptId,
    courseId: done.courseId,
    data: {
      submissionId: attemptId,
      assessmentId: done.assessmentId,
      courseId: done.courseId,
      userId: done.userId,
      submittedAt: submittedAt.toISOString(),
      by: done.submittedBy as "learner" | "deadline",
    },
  });
  return ok({ attempt: done, first: true });
}

/** The attempt-deadline safety net: submits every open attempt whose deadline has passed. Safe to run twice. */
export async function submitOverdueAttempts(ctx: DomainContext, limit: number): Promise<number> {
  const due = await ctx.db
    .select({ id: attempts.id })
    .from(attempts)
    .where(and(eq(attempts.status, "in-progress"), lte(attempts.deadlineAt, ctx.now())))
    .limit(limit);
  let submitted = 0;
  for (const { id } of due) {
    const r = await ctx.db.transaction((tx) => submitAttempt({ ...ctx, db: tx }, id, "deadline"));
    if (r.ok && r.value.first) submitted += 1;
  }
  return submitted;
}
