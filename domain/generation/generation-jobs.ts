import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import { bankPlace } from "../banks/bank-access.js";
import { type FileStore, mismatchDetail, type UploadGrant, uploadMismatches } from "../catalog/file-store.js";
import type { Item } from "../db/schema/assessment-json.js";
import type { Executor } from "../db/client.js";
import { bankItems, generationJobs, type GenerationProgress, type GenerationSource, lessons, questionBanks } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { GenerationErrorCode } from "./generation.errors.js";

export type GenerationJobRow = typeof generationJobs.$inferSelect;

export const generationDocumentTypes = ["text/plain", "text/markdown", "application/pdf"] as const;
export type GenerationDocumentType = (typeof generationDocumentTypes)[number];

const DOCUMENT_UPLOAD_TTL_SECONDS = 15 * 60;

const extensionOf: Record<GenerationDocumentType, string> = { "text/plain": "txt", "text/markdown": "md", "application/pdf": "pdf" };
/** Where a generation document lives: named by the server, under its own prefix. */
export const documentBlobName = (documentId: string, contentType: GenerationDocumentType) => `generation/${documentId}/document.${extensionOf[contentType]}`;

const emptyProgress = (requested: number): GenerationProgress => ({ requested, generated: 0, stored: 0, discarded: 0 });

/**
 * An upload URL for a document to generate from. The document is a job row awaiting its upload (`awaiting-upload`):
 * starting a job from it turns that row into the job, so one document feeds one job. A declared size over the limit
 * is refused before anything is recorded.
 */
export async function requestGenerationDocument(
  ctx: DomainContext,
  store: FileStore,
  bankId: string,
  file: { fileName: string; contentType: GenerationDocumentType; size: number },
  maxBytes: number,
): Promise<Result<{ document: GenerationJobRow; upload: UploadGrant }, GenerationErrorCode>> {
  if (file.size > maxBytes) return fail("DOCUMENT_TOO_LARGE", `A document to generate from may be at most ${maxBytes} bytes; this one declares ${file.size}.`, { maxBytes });
  const place = await bankPlace(ctx.db, bankId);
  if (!place) return fail("QUESTION_BANK_NOT_FOUND");
  if (!place.courseId) return fail("GENERATION_NEEDS_COURSE", "An administrator's shared bank generates from a course's lesson: give source.lessonId.");
  const id = ctx.newId();
  const blobName = documentBlobName(id, file.contentType);
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(generationJobs)
    .values({
      id,
      bankId,
      courseId: place.courseId,
      requestedByUserId: ctx.actor.userId,
      source: { kind: "document", blobName, fileName: file.fileName, contentType: file.contentType, declaredSize: file.size },
      itemTypes: [],
      count: 0,
      status: "awaiting-upload",
      progress: emptyProgress(0),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  const upload = await store.uploadUrl(blobName, file.contentType, DOCUMENT_UPLOAD_TTL_SECONDS);
  return ok({ document: row as GenerationJobRow, upload });
}

export interface GenerationAsk {
  count: number;
  itemTypes: Item["type"][];
  source: { lessonId: string } | { documentId: string };
}

/**
 * Starts a job: the bank and source are checked (a lesson of the bank's course with text; or the bank's document,
 * uploaded as declared and within the limit, checked again on the stored blob), the job is queued and audited. The
 * caller sends its message after commit. Nothing is written when a check fails.
 */
export async function startGenerationJob(
  ctx: DomainContext,
  store: FileStore,
  bankId: string,
  ask: GenerationAsk,
  limits: { maxItems: number; maxDocumentBytes: number },
): Promise<Result<GenerationJobRow, GenerationErrorCode>> {
  if (ask.count > limits.maxItems) return fail("GENERATION_TOO_MANY_ITEMS", `A job may ask for at most ${limits.maxItems} items.`, { maxItems: limits.maxItems });
  const place = await bankPlace(ctx.db, bankId);
  if (!place) return fail("QUESTION_BANK_NOT_FOUND");
  const now = ctx.now();
  const asked = { count: ask.count, itemTypes: [...new Set(ask.itemTypes)], status: "queued" as const, progress: emptyProgress(ask.count), requestedByUserId: ctx.actor.userId, updatedAt: now };
  let job: GenerationJobRow;
  if ("lessonId" in ask.source) {
    const [lesson] = await ctx.db
      .select({ courseId: lessons.courseId, hasText: sql<boolean>`length(trim(coalesce(${lessons.body}, ''))) > 0` })
      .from(lessons)
      .where(eq(lessons.id, ask.source.lessonId));
    // A course's bank takes its own course's lessons; a shared bank (administrators) any course's.
    if (!lesson || (place.courseId && lesson.courseId !== place.courseId)) return fail("LESSON_NOT_FOUND");
    if (!lesson.hasText) return fail("GENERATION_SOURCE_EMPTY", "The lesson has no text body to generate from.");
    const source: GenerationSource = { kind: "lesson", lessonId: ask.source.lessonId };
    const [row] = await ctx.db.insert(generationJobs).values({ id: ctx.newId(), bankId, courseId: lesson.courseId, source, ...asked, createdAt: now }).returning();
    job = row as GenerationJobRow;
  } else {
    const [doc] = await ctx.db
      .select()
      .from(generationJobs)
      .where(and(eq(generationJobs.id, ask.source.documentId), eq(generationJobs.bankId, bankId)))
      .for("update");
    if (!doc || doc.source.kind !== "document") return fail("GENERATION_DOCUMENT_NOT_FOUND");
    if (doc.status !== "awaiting-upload") return fail("GENERATION_DOCUMENT_NOT_UPLOADED", "The document was used by a job already; upload it again for another.", { jobId: doc.id });
    const { blobName, contentType, declaredSize } = doc.source;
    // The stored blob's real size, whatever was declared: an upload URL cannot cap what is sent to it.
    const stored = await store.stat(blobName);
    if (!stored) return fail("GENERATION_DOCUMENT_NOT_UPLOADED", "Nothing was uploaded to the document's upload URL yet.");
    if (stored.sizeBytes > limits.maxDocumentBytes) {
      return fail("DOCUMENT_TOO_LARGE", `The uploaded document is ${stored.sizeBytes} bytes; generation takes at most ${limits.maxDocumentBytes}.`, { maxBytes: limits.maxDocumentBytes });
    }
    const mismatches = uploadMismatches(stored, { contentType, sizeBytes: declaredSize });
    if (mismatches.length) return fail("GENERATION_DOCUMENT_MISMATCH", mismatchDetail(mismatches));
    const [row] = await ctx.db.update(generationJobs).set(asked).where(eq(generationJobs.id, doc.id)).returning();
    job = row as GenerationJobRow;
  }
  await recordAudit(ctx, { action: "generation.started", targetType: "generation-job", targetId: job.id, details: { bankId, count: job.count, itemTypes: job.itemTypes, source: job.source.kind } });
  return ok(job);
}

/**
 * A job's bank and that bank's course (null: an administrator's shared bank) in one read, for the routes' access
 * check; null when there is no such job.
 */
export async function jobWithCourse(db: Executor, jobId: string): Promise<{ bankId: string; bankCourseId: string | null } | null> {
  const [row] = await db
    .select({ bankId: generationJobs.bankId, bankCourseId: questionBanks.courseId })
    .from(generationJobs)
    .innerJoin(questionBanks, eq(questionBanks.id, generationJobs.bankId))
    .where(eq(generationJobs.id, jobId));
  return row ?? null;
}

export interface GenerationJobView {
  job: GenerationJobRow;
  /** The items the job stored (drafts until approved), in the order they were made. */
  itemIds: string[];
}

export async function generationJobById(db: Executor, jobId: string): Promise<Result<GenerationJobView, "GENERATION_JOB_NOT_FOUND">> {
  // The job and its items' ids (in id order) in one read; the job's id is qualified (a bare id would be the item's).
  const [row] = await db
    .select({
      job: generationJobs,
      itemIds: sql<string[]>`coalesce((select array_agg(bi.id::text order by bi.id) from ${bankItems} bi where bi.generation_job_id = ${generationJobs}.id), '{}')`,
    })
    .from(generationJobs)
    .where(eq(generationJobs.id, jobId));
  if (!row || row.job.status === "awaiting-upload") return fail("GENERATION_JOB_NOT_FOUND");
  return ok({ job: row.job, itemIds: row.itemIds });
}
