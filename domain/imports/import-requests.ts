import { and, desc, eq, lt, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { FileStore, UploadGrant } from "../catalog/file-store.js";
import type { BlobRemover } from "../privacy/erasure.js";
import type { Executor } from "../db/client.js";
import { courses, importRows, imports } from "../db/schema/index.js";
import { courseRoleOf } from "../identity/caller.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { ImportKindName } from "./import-kind.js";
import type { ImportErrorCode } from "./imports.errors.js";
import { importKind } from "./kinds/index.js";

export type ImportRow = typeof imports.$inferSelect;

export const IMPORT_UPLOAD_TTL_SECONDS = 15 * 60;
export const importContentTypes = ["text/csv", "application/zip"] as const;
export type ImportContentType = (typeof importContentTypes)[number];

/** Kinds course staff may import into their own course; the others touch accounts across courses (admins only). */
const courseScopedKinds: readonly ImportKindName[] = ["enrollments", "sections"];

export interface Importer {
  userId: string;
  isAdmin: boolean;
}

export interface DeclaredImport {
  fileName: string;
  contentType: ImportContentType;
  sizeBytes: number;
  courseId: string | null;
}

/** Where an import's file lives: named by the server, under the import's own prefix. */
export const importBlobName = (importId: string, contentType: ImportContentType) => `imports/${importId}/upload.${contentType === "application/zip" ? "zip" : "csv"}`;

/**
 * An administrator (any import) or an instructor of `courseId` (that course's roster) asks to upload a file:
 * the import is recorded, awaiting its upload, and a short-lived create-only URL is returned.
 */
export async function requestImport(
  ctx: DomainContext,
  store: FileStore,
  importer: Importer,
  file: DeclaredImport,
  maxBytes: number,
): Promise<Result<{ import: ImportRow; upload: UploadGrant }, ImportErrorCode>> {
  if (file.sizeBytes > maxBytes) return fail("IMPORT_TOO_LARGE", `An import's file may be at most ${maxBytes} bytes.`, { maxBytes });
  if (file.courseId) {
    const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, file.courseId));
    if (!course) return fail("COURSE_NOT_FOUND");
  }
  if (!importer.isAdmin) {
    if (!file.courseId) return fail("IMPORT_FORBIDDEN", "Only administrators import without a course; course staff give their courseId.");
    if (!(await isCourseInstructor(ctx.db, file.courseId, importer.userId))) return fail("IMPORT_FORBIDDEN", "Only the course's instructors import its roster.");
  }
  const id = ctx.newId();
  const blobName = importBlobName(id, file.contentType);
  const [row] = await ctx.db
    .insert(imports)
    .values({
      id,
      createdByUserId: importer.userId,
      courseId: file.courseId,
      blobName,
      fileName: file.fileName,
      contentType: file.contentType,
      declaredSize: file.sizeBytes,
      createdAt: ctx.now(),
    })
    .returning();
  const upload = await store.uploadUrl(blobName, file.contentType, IMPORT_UPLOAD_TTL_SECONDS);
  return ok({ import: row as ImportRow, upload });
}

/** Whether `userId` is an instructor of `courseId` now (asked again at each start: staff may be removed meanwhile). */
export const isCourseInstructor = async (db: Executor, courseId: string, userId: string): Promise<boolean> => (await courseRoleOf(db, userId, courseId)) === "instructor";

/** The import, when the caller may see it: its importer, or an administrator. */
export async function importSeenBy(db: Executor, importId: string, caller: Importer): Promise<Result<ImportRow, ImportErrorCode>> {
  const [row] = await db.select().from(imports).where(eq(imports.id, importId));
  if (!row || (!caller.isAdmin && row.createdByUserId !== caller.userId)) return fail("IMPORT_NOT_FOUND");
  return ok(row);
}

/** Who created the import (the route's owner check), or null when there is no such import. */
export async function importCreator(db: Executor, importId: string): Promise<string | null> {
  const [row] = await db.select({ userId: imports.createdByUserId }).from(imports).where(eq(imports.id, importId));
  return row?.userId ?? null;
}

/** The caller's imports (an administrator's: everyone's), newest first. */
export async function listImports(db: Executor, caller: Importer, page: { limit: number; beforeId?: string }): Promise<ImportRow[]> {
  const conditions = [
    ...(caller.isAdmin ? [] : [eq(imports.createdByUserId, caller.userId)]),
    ...(page.beforeId ? [lt(imports.id, page.beforeId)] : []),
  ];
  return db
    .select()
    .from(imports)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(imports.id))
    .limit(page.limit + 1);
}

export interface StartedImport {
  import: ImportRow;
  /** Names the queue message and the Durable instance of this run. */
  run: number;
}

/**
 * Starts the uploaded file's import as `kind`: the file must be there as declared and of the kind's type, the
 * importer allowed that kind (course staff: still an instructor of the course), and the import not started yet; the
 * import is then queued. A completed dry run may be started again (as a real run, or another dry run): its outcomes
 * are cleared and the file read afresh. A failed or cancelled real run may be started again as the same kind: it
 * goes on from its rows' outcomes.
 */
export async function startImport(
  ctx: DomainContext,
  store: FileStore & Pick<BlobRemover, "remove">,
  importId: string,
  caller: Importer,
  request: { kind: ImportKindName; dryRun: boolean },
): Promise<Result<StartedImport, ImportErrorCode>> {
  const [row] = await ctx.db.select().from(imports).where(eq(imports.id, importId)).for("update");
  if (!row || (!caller.isAdmin && row.createdByUserId !== caller.userId)) return fail("IMPORT_NOT_FOUND");
  const afterDryRun = row.status === "completed" && row.dryRun;
  // A real run that failed or was cancelled goes on from its rows' outcomes: rows already applied stay applied.
  const resumed = (row.status === "failed" || row.status === "cancelled") && !row.dryRun && row.kind !== null;
  if (row.status !== "awaiting-upload" && !afterDryRun && !resumed) {
    return fail("IMPORT_ALREADY_STARTED", `The import is ${row.status}; only a completed dry run, or a failed or cancelled real run, may be started again.`, { status: row.status });
  }
  if (resumed && (request.kind !== row.kind || request.dryRun)) {
    return fail("IMPORT_ALREADY_STARTED", `The import ran for real as ${row.kind}; it may only go on as a real ${row.kind} import.`, { status: row.status });
  }
  if (!importKind(request.kind)) return fail("IMPORT_KIND_UNAVAILABLE", `Imports of kind ${request.kind} are not available yet.`);
  if (row.courseId ? !courseScopedKinds.includes(request.kind) : !caller.isAdmin) {
    return fail("IMPORT_FORBIDDEN", `A course's import takes ${courseScopedKinds.join(" or ")}; ${request.kind} imports are for administrators, without a course.`);
  }
  if (row.courseId && !caller.isAdmin && !(await isCourseInstructor(ctx.db, row.courseId, caller.userId))) {
    return fail("IMPORT_FORBIDDEN", "Only the course's instructors import its roster.");
  }
  const wanted: ImportContentType = request.kind === "oneroster" ? "application/zip" : "text/csv";
  if (row.contentType !== wanted) return fail("IMPORT_WRONG_FILE_TYPE", `A ${request.kind} import takes a ${wanted} file; this one was declared ${row.contentType}.`);
  if (!row.blobName) return fail("IMPORT_FILE_NOT_UPLOADED", "The import's file was deleted after its retention.");
  const stored = await store.stat(row.blobName);
  if (!stored) return fail("IMPORT_FILE_NOT_UPLOADED", "Nothing was uploaded to the upload URL yet.");
  if (stored.sizeBytes !== row.declaredSize) {
    // The upload URL only creates: a wrong file could never be replaced. It is deleted and the import fails with the
    // reason; the importer asks for a new upload URL (another import).
    const reason = `The upload is ${stored.sizeBytes} bytes; ${row.declaredSize} were declared. The upload was deleted and this import failed: ask for a new upload URL and upload the file as declared.`;
    await store.remove(row.blobName);
    await ctx.db.update(imports).set({ status: "failed", refusalReason: reason, blobName: null, finishedAt: ctx.now() }).where(eq(imports.id, importId));
    return fail("IMPORT_FILE_MISMATCH", reason, { sizeBytes: stored.sizeBytes, declaredSize: row.declaredSize });
  }
  if (afterDryRun) await ctx.db.delete(importRows).where(eq(importRows.importId, importId));
  // A resumed run whose file was staged keeps its rows, counters and stagedAt: its begin step goes straight to the
  // batches, which skip the rows that have an outcome. Otherwise everything starts afresh.
  const fresh = !(resumed && row.stagedAt);
  const [queued] = await ctx.db
    .update(imports)
    .set({
      run: sql`${imports.run} + 1`,
      status: "queued",
      startedAt: ctx.now(),
      finishedAt: null,
      cancelRequestedAt: null,
      refusalReason: null,
      ...(fresh ? freshRun(request) : {}),
    })
    .where(eq(imports.id, importId))
    .returning();
  const started = queued as ImportRow;
  await recordAudit(ctx, { action: "import.started", targetType: "import", targetId: importId, details: { kind: request.kind, dryRun: request.dryRun, courseId: row.courseId, run: started.run, resumed } });
  return ok({ import: started, run: started.run });
}

const freshRun = (request: { kind: ImportKindName; dryRun: boolean }) =>
  ({
      kind: request.kind,
      dryRun: request.dryRun,
      stagedAt: null,
      warnings: [] as string[],
      rowsRead: 0,
      rowsApplied: 0,
      rowsFailed: 0,
      rowsSkipped: 0,
      entityCounts: {},
      currentPart: null,
      currentLine: null,
    }) satisfies Partial<typeof imports.$inferInsert>;

const runningStatuses = new Set<string>(["queued", "staging", "applying"]);

/** Asks a running import to stop: the orchestration stops before its next batch; applied rows stay applied. */
export async function cancelImport(ctx: DomainContext, importId: string, caller: Importer): Promise<Result<ImportRow, ImportErrorCode>> {
  const [row] = await ctx.db.select().from(imports).where(eq(imports.id, importId)).for("update");
  if (!row || (!caller.isAdmin && row.createdByUserId !== caller.userId)) return fail("IMPORT_NOT_FOUND");
  if (!runningStatuses.has(row.status)) return fail("IMPORT_NOT_RUNNING", `The import is ${row.status}.`, { status: row.status });
  if (row.cancelRequestedAt) return ok(row);
  const [updated] = await ctx.db.update(imports).set({ cancelRequestedAt: ctx.now() }).where(eq(imports.id, importId)).returning();
  await recordAudit(ctx, { action: "import.cancelled", targetType: "import", targetId: importId });
  return ok(updated as ImportRow);
}

/**
 * Imports staging or applying whose run began before `olderThan`: the housekeeping checks each one's orchestration
 * is still there and running (a run whose orchestration ended or vanished mid-way is started again).
 */
export async function importsInProgress(db: Executor, olderThan: Date): Promise<{ id: string; run: number }[]> {
  return db
    .select({ id: imports.id, run: imports.run })
    .from(imports)
    .where(and(sql`${imports.status} in ('staging', 'applying')`, lt(imports.startedAt, olderThan)))
    .orderBy(imports.startedAt)
    .limit(100);
}

/** Imports left queued (their message never reached the queue) for longer than `olderThan`. */
export async function importsLeftQueued(db: Executor, olderThan: Date): Promise<{ id: string; run: number }[]> {
  return db
    .select({ id: imports.id, run: imports.run })
    .from(imports)
    .where(and(eq(imports.status, "queued"), lt(imports.startedAt, olderThan)))
    .limit(100);
}
