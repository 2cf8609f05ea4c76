import { eq, sql } from "drizzle-orm";
import { lessons } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { CatalogErrorCode } from "./catalog.errors.js";
import { findLesson, type LessonRow } from "./content.js";
import { checkUpload, type FileStore, type UploadGrant } from "./file-store.js";

export const MAX_LESSON_FILE_BYTES = 2 * 1024 ** 3;
/** Media types a lesson file may have: video, audio, images, PDF, plain text and office documents. */
export const lessonFileTypes = /^(video\/[\w.+-]+|audio\/[\w.+-]+|image\/(png|jpeg|gif|webp|svg\+xml)|application\/pdf|text\/plain|text\/markdown|application\/zip|application\/vnd\.openxmlformats-officedocument\.[\w.]+)$/;
export const UPLOAD_URL_TTL_SECONDS = 15 * 60;
export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;

export interface DeclaredFile {
  fileName: string;
  contentType: string;
  sizeBytes: number;
}

/**
 * Staff ask to upload a lesson's file: the server chooses the blob name (never the client), records what was
 * declared, and returns a short-lived write-only URL. The bytes go straight to Blob Storage.
 */
export async function requestLessonUpload(
  ctx: DomainContext,
  store: FileStore,
  lessonId: string,
  file: DeclaredFile,
): Promise<Result<UploadGrant & { blobName: string }, CatalogErrorCode>> {
  const lesson = await findLesson(ctx.db, lessonId);
  if (!lesson) return fail("LESSON_NOT_FOUND");
  if (lesson.kind !== "file") return fail("LESSON_NOT_A_FILE", "Only lessons of kind file take an upload.");
  const extension = /\.([A-Za-z0-9]{1,10})$/.exec(file.fileName)?.[1]?.toLowerCase();
  const blobName = `courses/${lesson.courseId}/lessons/${lesson.id}/${ctx.newId()}${extension ? `.${extension}` : ""}`;
  await ctx.db
    .update(lessons)
    .set({
      fileBlobName: blobName,
      fileName: file.fileName,
      fileContentType: file.contentType,
      fileSizeBytes: file.sizeBytes,
      fileStatus: "awaiting-upload",
      version: sql`${lessons.version} + 1`,
      updatedAt: ctx.now(),
    })
    .where(eq(lessons.id, lessonId));
  const grant = await store.uploadUrl(blobName, file.contentType, UPLOAD_URL_TTL_SECONDS);
  return ok({ ...grant, blobName });
}

/** Checks the uploaded blob against what was declared (type and exact size) before learners can see it. */
export async function confirmLessonUpload(ctx: DomainContext, store: FileStore, lessonId: string): Promise<Result<LessonRow, CatalogErrorCode>> {
  const lesson = await findLesson(ctx.db, lessonId);
  if (!lesson) return fail("LESSON_NOT_FOUND");
  if (lesson.kind !== "file") return fail("LESSON_NOT_A_FILE");
  if (!lesson.fileBlobName) return fail("FILE_NOT_UPLOADED", "Ask for an upload URL first.");
  const checked = await checkUpload(store, lesson.fileBlobName, { contentType: lesson.fileContentType, sizeBytes: lesson.fileSizeBytes });
  if (!checked.ok) return checked;
  const [row] = await ctx.db
    .update(lessons)
    .set({ fileStatus: "ready", version: sql`${lessons.version} + 1`, updatedAt: ctx.now() })
    .where(eq(lessons.id, lessonId))
    .returning();
  return ok(row as LessonRow);
}
