import { eq, sql } from "drizzle-orm";
import { courseEvaluations, evaluationReceipts, evaluationResponses } from "../db/schema/index.js";
import { isActiveLearner } from "../identity/caller.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { checkAnswers } from "./questions.js";
import { receiptFor } from "./receipts.js";

export type RespondError = "EVALUATION_NOT_FOUND" | "EVALUATION_NOT_LEARNER" | "EVALUATION_NOT_OPEN" | "EVALUATION_ALREADY_ANSWERED" | "EVALUATION_ANSWERS_INVALID";

/**
 * A learner's answers, stored anonymously in the caller's transaction: the receipt (a keyed hash of evaluation and
 * learner; its primary key refuses a second answer), the response under a random (not time-ordered) id with no user
 * and no time, and the count. Nothing else is written: no event, no audit entry, no log line names the learner.
 * The evaluation row is locked (no key update) so a close cannot slip between the check and the insert.
 */
export async function respondToEvaluation(
  ctx: DomainContext,
  input: { evaluationId: string; userId: string; answers: Record<string, unknown> },
  receiptKey: string,
): Promise<Result<{ evaluationId: string }, RespondError>> {
  const [evaluation] = await ctx.db.select().from(courseEvaluations).where(eq(courseEvaluations.id, input.evaluationId)).for("no key update");
  if (!evaluation) return fail("EVALUATION_NOT_FOUND");
  if (!(await isActiveLearner(ctx.db, input.userId, evaluation.courseId))) return fail("EVALUATION_NOT_LEARNER", "Only the course's learners answer its evaluations.");
  const now = ctx.now();
  if (evaluation.status !== "open" || now.getTime() >= evaluation.closesAt.getTime()) {
    return fail("EVALUATION_NOT_OPEN", evaluation.status === "scheduled" ? `The evaluation opens at ${evaluation.opensAt.toISOString()}.` : "The evaluation has closed.");
  }
  const answers = checkAnswers(evaluation.questions, input.answers);
  if (!answers.ok) return answers;
  const receipt = receiptFor(receiptKey, evaluation.id, input.userId);
  const inserted = await ctx.db.insert(evaluationReceipts).values({ evaluationId: evaluation.id, receipt }).onConflictDoNothing().returning({ receipt: evaluationReceipts.receipt });
  if (inserted.length === 0) return fail("EVALUATION_ALREADY_ANSWERED", "You have answered this evaluation already.");
  await ctx.db.insert(evaluationResponses).values({ id: crypto.randomUUID(), evaluationId: evaluation.id, answers: answers.value });
  await ctx.db
    .update(courseEvaluations)
    .set({ responseCount: sql`${courseEvaluations.responseCount} + 1` })
    .where(eq(courseEvaluations.id, evaluation.id));
  return ok({ evaluationId: evaluation.id });
}
