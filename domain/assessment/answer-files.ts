import { eq } from "drizzle-orm";
import { assessments, attempts } from "../db/schema/index.js";
import type { FileStore, UploadGrant } from "../catalog/file-store.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { AssessmentErrorCode } from "./assessment.errors.js";
import { presentedItems } from "./presented-items.js";

export const MAX_ANSWER_FILE_BYTES = 100 * 1024 ** 2;
const UPLOAD_TTL_SECONDS = 15 * 60;

/** Answer files of an attempt live under this prefix; an answer naming any other blob is refused. */
export const answerFilePrefix = (courseId: string, attemptId: string) => `submissions/${courseId}/${attemptId}/`;

/**
 * A learner asks to upload the file for a `file` item of their open attempt: the server names the blob
 * under the attempt's prefix and returns a short-lived create-only URL. The blob name is the answer to save.
 */
export async function requestAnswerUpload(
  ctx: DomainContext,
  store: FileStore,
  attemptId: string,
  input: { itemId: string; fileName: string; contentType: string; sizeBytes: number },
): Promise<Result<UploadGrant & { blobName: string }, AssessmentErrorCode>> {
  const [attempt] = await ctx.db.select().from(attempts).where(eq(attempts.id, attemptId));
  if (!attempt) return fail("ATTEMPT_NOT_FOUND");
  if (attempt.status !== "in-progress" || (attempt.deadlineAt && ctx.now() > attempt.deadlineAt)) return fail("ATTEMPT_CLOSED");
  const [a] = await ctx.db.select({ items: assessments.items }).from(assessments).where(eq(assessments.id, attempt.assessmentId));
  const item = presentedItems(attempt, { items: a?.items ?? [] }).find((i) => i.id === input.itemId);
  if (!item || item.type !== "file") return fail("INVALID_ANSWER", `${input.itemId} is not a file item of this assessment.`);
  const extension = /\.([A-Za-z0-9]{1,10})$/.exec(input.fileName)?.[1]?.toLowerCase();
  const blobName = `${answerFilePrefix(attempt.courseId, attempt.id)}${input.itemId}/${ctx.newId()}${extension ? `.${extension}` : ""}`;
  const grant = await store.uploadUrl(blobName, input.contentType, UPLOAD_TTL_SECONDS);
  return ok({ ...grant, blobName });
}
