import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type ImportEntityCounts, importRows, imports, users } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import type { RowPart } from "./import-kind.js";
import { type ImportRow, isCourseInstructor } from "./import-requests.js";
import { ImportFileRefused, ImportNotStaging, type OpenPart, type StageLimits, stagePart, type StagedPart } from "./stage-import.js";

export type ImportPhase =
  /** Read the file (again, after a crash while staging). */
  | { phase: "stage"; kind: string; importerUserId: string; blobName: string; contentType: string }
  /** Staged already: go on applying from the rows' outcomes. */
  | { phase: "apply"; kind: string; importerUserId: string }
  /** Not this run's to work on (superseded, ended, or cancelled before it began). */
  | { phase: "none" };

/**
 * Where a run of an import stands when its orchestration (re)starts. A queued import moves to staging; one
 * cancelled before its file was read ends here as cancelled.
 */
export async function beginImportRun(ctx: DomainContext, importId: string, run: number): Promise<ImportPhase> {
  const [imp] = await ctx.db.select().from(imports).where(eq(imports.id, importId)).for("update");
  if (!imp || imp.run !== run || !imp.kind) return { phase: "none" };
  if (imp.status === "applying") return { phase: "apply", kind: imp.kind, importerUserId: imp.createdByUserId };
  if (imp.status !== "queued" && imp.status !== "staging") return { phase: "none" };
  if (imp.cancelRequestedAt) {
    await endImport(ctx, imp, "cancelled");
    return { phase: "none" };
  }
  const refused = await importerRefused(ctx, imp);
  if (refused) {
    await failImport(ctx, importId, run, refused);
    return { phase: "none" };
  }
  if (!imp.blobName) {
    await failImport(ctx, importId, run, "The import's file was deleted after its retention.");
    return { phase: "none" };
  }
  // A failed or cancelled real run started again whose file was staged goes on with the batches, from the outcomes.
  if (imp.status === "queued" && imp.stagedAt) {
    await ctx.db.update(imports).set({ status: "applying" }).where(eq(imports.id, importId));
    return { phase: "apply", kind: imp.kind, importerUserId: imp.createdByUserId };
  }
  if (imp.status === "queued") await ctx.db.update(imports).set({ status: "staging" }).where(eq(imports.id, importId));
  return { phase: "stage", kind: imp.kind, importerUserId: imp.createdByUserId, blobName: imp.blobName, contentType: imp.contentType };
}

/**
 * Why the importer may no longer run this import, or null: an administrator may run any; course staff only their
 * course's import while still its instructor (a removed or demoted instructor's queued run fails).
 */
async function importerRefused(ctx: DomainContext, imp: ImportRow): Promise<string | null> {
  const [importer] = await ctx.db.select({ isAdmin: users.isAdmin, disabledAt: users.disabledAt }).from(users).where(eq(users.id, imp.createdByUserId));
  if (!importer || importer.disabledAt) return "The importer's account is deactivated.";
  if (importer.isAdmin) return null;
  if (!imp.courseId) return "Only administrators import without a course.";
  return (await isCourseInstructor(ctx.db, imp.courseId, imp.createdByUserId)) ? null : "The importer is no longer an instructor of the course.";
}

/** Rows read so far while the file is staged (the import's progress before its batches begin). */
export async function recordRowsRead(db: Executor, importId: string, run: number, rowsRead: number): Promise<void> {
  await db.update(imports).set({ rowsRead }).where(and(eq(imports.id, importId), eq(imports.run, run), eq(imports.status, "staging")));
}

/** Every part staged: the rows refused while reading are counted, and the batches may begin. */
export async function importStaged(db: Executor, importId: string, run: number, parts: readonly (StagedPart & { entity: string })[], now: Date): Promise<boolean> {
  const counts: ImportEntityCounts = {};
  for (const p of parts) {
    const c = (counts[p.entity] ??= { created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0 });
    c.failed += p.rowsFailed;
  }
  const updated = await db
    .update(imports)
    .set({
      status: "applying",
      stagedAt: now,
      rowsRead: parts.reduce((n, p) => n + p.rowsRead, 0),
      rowsFailed: parts.reduce((n, p) => n + p.rowsFailed, 0),
      rowsApplied: 0,
      rowsSkipped: 0,
      entityCounts: counts,
      warnings: parts.flatMap((p) => p.warnings),
    })
    .where(and(eq(imports.id, importId), eq(imports.run, run), eq(imports.status, "staging")))
    .returning({ id: imports.id });
  if (updated.length === 1) return true;
  // A replayed stage step (the runtime died after this committed, before Durable recorded the step): go on.
  const [imp] = await db.select({ status: imports.status }).from(imports).where(and(eq(imports.id, importId), eq(imports.run, run)));
  return imp?.status === "applying";
}

export type StageResult = { kind: "applying" } | { kind: "refused"; reason: string } | { kind: "stopped" };

/**
 * Reads every part of the run's file into import_rows, then moves the import to applying. A refused file is
 * reported (see refuseImport); a run that is no longer staging stops, unless it is already applying (a replay).
 */
export async function stageImport(
  db: Executor,
  importId: string,
  run: number,
  parts: readonly RowPart<unknown>[],
  open: OpenPart,
  limits: Omit<StageLimits, "insertBatch" | "onRowsRead">,
  now: () => Date,
): Promise<StageResult> {
  const staged: (StagedPart & { entity: string })[] = [];
  try {
    for (const part of parts) {
      const before = staged.reduce((n, p) => n + p.rowsRead, 0);
      const onRowsRead = (rows: number) => recordRowsRead(db, importId, run, before + rows);
      staged.push({ ...(await stagePart(db, importId, run, part, open, { ...limits, onRowsRead })), entity: part.entity });
    }
  } catch (err) {
    if (err instanceof ImportFileRefused) return { kind: "refused", reason: err.reason };
    if (!(err instanceof ImportNotStaging)) throw err;
    const [imp] = await db.select({ status: imports.status }).from(imports).where(and(eq(imports.id, importId), eq(imports.run, run)));
    return imp?.status === "applying" ? { kind: "applying" } : { kind: "stopped" };
  }
  return (await importStaged(db, importId, run, staged, now())) ? { kind: "applying" } : { kind: "stopped" };
}

/** The run's file was refused: its staged rows go (nothing was applied) and the import fails with the reason. */
export async function refuseImport(ctx: DomainContext, importId: string, run: number, reason: string): Promise<void> {
  const [imp] = await ctx.db.select({ run: imports.run, status: imports.status }).from(imports).where(eq(imports.id, importId)).for("update");
  if (!imp || imp.run !== run || imp.status !== "staging") return;
  await ctx.db.delete(importRows).where(eq(importRows.importId, importId));
  await failImport(ctx, importId, run, reason);
}

/** The run ended: completed (every batch done) or cancelled (stopped between batches); the importer is told. */
export async function finishImport(ctx: DomainContext, importId: string, run: number, how: "completed" | "cancelled"): Promise<ImportRow | null> {
  const [imp] = await ctx.db.select().from(imports).where(eq(imports.id, importId)).for("update");
  if (!imp || imp.run !== run || (imp.status !== "applying" && imp.status !== "staging")) return null;
  return endImport(ctx, imp, how);
}

async function endImport(ctx: DomainContext, imp: ImportRow, how: "completed" | "cancelled"): Promise<ImportRow> {
  const finishedAt = ctx.now();
  const [ended] = await ctx.db.update(imports).set({ status: how, finishedAt }).where(eq(imports.id, imp.id)).returning();
  const row = ended as ImportRow;
  await recordEvent(ctx, {
    type: "import.completed",
    aggregateType: "import",
    aggregateId: imp.id,
    courseId: imp.courseId,
    data: {
      importId: imp.id,
      importerUserId: imp.createdByUserId,
      courseId: imp.courseId,
      kind: imp.kind ?? "unknown",
      dryRun: imp.dryRun,
      status: how,
      rowsRead: row.rowsRead,
      rowsApplied: row.rowsApplied,
      rowsFailed: row.rowsFailed,
      rowsSkipped: row.rowsSkipped,
      counts: row.entityCounts,
      finishedAt: finishedAt.toISOString(),
    },
  });
  return row;
}

/**
 * The run failed: its file was refused (nothing was applied) or a step failed every retry (the rows with an
 * outcome say what was applied). Recorded once; the importer is told.
 */
export async function failImport(ctx: DomainContext, importId: string, run: number, reason: string): Promise<ImportRow | null> {
  const finishedAt = ctx.now();
  const [failed] = await ctx.db
    .update(imports)
    .set({ status: "failed", refusalReason: reason.slice(0, 2_000), finishedAt })
    .where(and(eq(imports.id, importId), eq(imports.run, run), sql`${imports.status} in ('queued', 'staging', 'applying')`, isNull(imports.finishedAt)))
    .returning();
  if (!failed) return null;
  await recordEvent(ctx, {
    type: "import.failed",
    aggregateType: "import",
    aggregateId: importId,
    courseId: failed.courseId,
    data: {
      importId,
      importerUserId: failed.createdByUserId,
      courseId: failed.courseId,
      kind: failed.kind ?? "unknown",
      dryRun: failed.dryRun,
      reason: failed.refusalReason ?? reason,
      rowsRead: failed.rowsRead,
      rowsApplied: failed.rowsApplied,
      finishedAt: finishedAt.toISOString(),
    },
  });
  return failed;
}
