import { eq } from "drizzle-orm";
import type { FileStore } from "../catalog/file-store.js";
import type { Executor } from "../db/client.js";
import type { PresentedItem } from "../db/schema/assessment-json.js";
import { assessments, attempts } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { inStaffScope } from "../sections/staff-scope.js";
import { answerFilePrefix } from "./answer-files.js";
import type { AttemptRow } from "./attempts.js";
import { presentedItems } from "./presented-items.js";

const FILE_READ_TTL_SECONDS = 15 * 60;

/** Whose an attempt (once submitted, the submission) is and in which course: what access checks need, not its answers. */
export async function attemptOwnership(db: Executor, attemptId: string): Promise<{ userId: string; courseId: string } | null> {
  const [row] = await db.select({ userId: attempts.userId, courseId: attempts.courseId }).from(attempts).where(eq(attempts.id, attemptId));
  return row ?? null;
}

/**
 * A submitted attempt with the items it presented and short-lived read URLs for its file answers (per item id). File answers are blob names
 * under the attempt's own prefix: whoever may read the submission may read them. An attempt still in progress is
 * no submission.
 */
export async function submissionWithFiles(
  db: Executor,
  store: FileStore,
  submissionId: string,
  viewerId: string,
): Promise<Result<{ submission: AttemptRow; items: PresentedItem[]; files: Record<string, string> }, "ATTEMPT_NOT_FOUND">> {
  const [joined] = await db.select({ attempt: attempts, items: assessments.items }).from(attempts).innerJoin(assessments, eq(assessments.id, attempts.assessmentId)).where(eq(attempts.id, submissionId));
  const row = joined?.attempt;
  if (!row || row.status !== "submitted") return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  // Staff scoped to sections read only their sections' submissions.
  if (!(await inStaffScope(db, row.courseId, viewerId, row.userId))) return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  const prefix = answerFilePrefix(row.courseId, row.id);
  const files: Record<string, string> = {};
  for (const [itemId, answer] of Object.entries(row.answers)) {
    if (typeof answer === "string" && answer.startsWith(prefix)) files[itemId] = (await store.downloadUrl(answer, FILE_READ_TTL_SECONDS)).url;
  }
  return ok({ submission: row, items: presentedItems(row, { items: joined.items }), files });
}
