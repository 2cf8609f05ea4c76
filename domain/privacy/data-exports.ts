import { and, desc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { type DataExportProgress, type DataExportStatus, dataExports, users } from "../db/schema/index.js";
import { composeEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { BlobRemover } from "./erasure.js";
import { personalDataParts } from "./personal-data.js";

export type DataExportErrorCode = "EXPORT_IN_PROGRESS" | "DATA_EXPORT_NOT_FOUND";
export type DataExportRow = typeof dataExports.$inferSelect;

/** The steps of an export as its progress counts them: one per part, then the archive, then the email. */
export const exportSteps = [...personalDataParts.map((p) => p.name), "archive", "notify"] as const;

// An export at work whose orchestration is gone (never started, failed, terminated, or ended without finishing it)
// is stalled once this old: younger, its start may still be on its way after the request's commit.
const STALLED_AFTER_MS = 60_000;
/** No export takes this long: one still at work after it is stalled whatever its orchestration says. */
export const EXPORT_MAX_RUN_MS = 24 * 3_600_000;

const activeStatuses = ["pending", "running"] as const satisfies readonly DataExportStatus[];

/** Everything an export writes lives under its user's prefix (its container is chosen by `privacy-exports/`), so erasure deletes it whole. */
export const exportPrefix = (userId: string) => `privacy-exports/${userId}/`;
/** The archive of an export. */
export const exportArchiveName = (userId: string, exportId: string) => `${exportPrefix(userId)}${exportId}.zip`;
/** Where an export's parts wait, as JSON, between their activities and the one that zips them. */
export const exportStagingPrefix = (userId: string, exportId: string) => `${exportPrefix(userId)}staging/${exportId}/`;

/** An export as its owner sees it: a ready export past its expiry reads as expired before housekeeping deletes it. */
export interface DataExportView {
  id: string;
  userId: string;
  status: DataExportStatus;
  progress: DataExportProgress & { percent: number };
  requestedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  expiresAt: Date | null;
  /** Set while the archive can be downloaded. */
  blobName: string | null;
}

export function viewOf(row: DataExportRow, now: Date): DataExportView {
  const expired = row.status === "expired" || (row.status === "ready" && row.expiresAt !== null && row.expiresAt <= now);
  const { step, stepsDone, stepsTotal } = row.progress;
  return {
    id: row.id,
    userId: row.userId,
    status: expired ? "expired" : row.status,
    progress: { step, stepsDone, stepsTotal, percent: stepsTotal > 0 ? Math.round((100 * stepsDone) / stepsTotal) : 0 },
    requestedAt: row.requestedAt,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    expiresAt: row.expiresAt,
    blobName: expired || row.status !== "ready" ? null : row.blobName,
  };
}

/** Whether an export's orchestration is still at work (the Durable instance exists and has not ended). */
export interface ExportRuns {
  isRunning(exportId: string): Promise<boolean>;
}

/** Deletes what an export wrote (its staged parts and any archive); files already gone are fine. */
export async function discardExportFiles(files: BlobRemover, userId: string, exportId: string): Promise<void> {
  await discardExportStaging(files, userId, exportId);
  await files.remove(exportArchiveName(userId, exportId));
}

/** Deletes an export's staged parts (ready, failed, or its user erased); parts already gone are fine. */
export async function discardExportStaging(files: BlobRemover, userId: string, exportId: string): Promise<void> {
  await files.removePrefix(exportStagingPrefix(userId, exportId));
}

/**
 * Whether the export is still wanted with this archive; when not (its user erased, or it failed meanwhile),
 * what it wrote is deleted first.
 */
export async function keepIfWanted(db: Executor, files: BlobRemover, ids: { userId: string; exportId: string }, archiveName: string): Promise<boolean> {
  if (await exportStillWanted(db, ids.exportId, archiveName)) return true;
  await discardExportFiles(files, ids.userId, ids.exportId);
  return false;
}

/**
 * The caller's export at work that has stalled (see STALLED_AFTER_MS), or null. Asked BEFORE the request's
 * transaction: the orchestration's status is a network call, never made while holding a connection and a
 * conflicting index entry. `requestDataExport` re-checks under its lock that the verdict is about the same row.
 */
export async function stalledDataExport(db: Executor, userId: string, runs: ExportRuns, now: Date): Promise<string | null> {
  const [active] = await db
    .select({ id: dataExports.id, requestedAt: dataExports.requestedAt, startedAt: dataExports.startedAt })
    .from(dataExports)
    .where(and(eq(dataExports.userId, userId), inArray(dataExports.status, activeStatuses)));
  if (!active) return null;
  const age = now.getTime() - (active.startedAt ?? active.requestedAt).getTime();
  return age > EXPORT_MAX_RUN_MS || (age > STALLED_AFTER_MS && !(await runs.isRunning(active.id))) ? active.id : null;
}

/** A new export, and the stalled one it replaced (whose files the caller deletes once this commits). */
export type RequestedDataExport = DataExportView & { replaced: { userId: string; exportId: string } | null };

/**
 * Records a request for a copy of the caller's data, pending until its orchestration picks it up. One export at
 * work per user: the partial unique index decides between two requests racing, and the loser is told which
 * export is under way. The export at work that `stalledDataExport` found stalled (`stalledId`, read before this
 * transaction) fails instead, if it is still the one at work, and this request takes its place. The caller starts
 * the orchestration and deletes the stalled export's files once this commits.
 */
export async function requestDataExport(ctx: DomainContext, userId: string, stalledId: string | null): Promise<Result<RequestedDataExport, "EXPORT_IN_PROGRESS">> {
  const now = ctx.now();
  let replaced: RequestedDataExport["replaced"] = null;
  // Three times at most: an export that finished, or the stalled one failed, frees the slot for the next round.
  for (let round = 0; round < 3; round++) {
    const [created] = await ctx.db
      .insert(dataExports)
      .values({ id: ctx.newId(), userId, status: "pending", progress: { step: exportSteps[0], stepsDone: 0, stepsTotal: exportSteps.length }, requestedAt: now })
      .onConflictDoNothing()
      .returning();
    if (created) {
      await recordAudit(ctx, { action: "privacy.export-requested", targetType: "user", targetId: userId, details: { exportId: created.id, ...(replaced ? { replacedExportId: replaced.exportId } : {}) } });
      return ok({ ...viewOf(created, now), replaced });
    }
    const [active] = await ctx.db
      .select({ id: dataExports.id })
      .from(dataExports)
      .where(and(eq(dataExports.userId, userId), inArray(dataExports.status, activeStatuses)))
      .for("update");
    if (!active) continue;
    if (active.id !== stalledId) return fail("EXPORT_IN_PROGRESS", "Your previous data export is still being prepared; its status tells when it is ready.", { exportId: active.id });
    const failed = await failDataExport(ctx.db, active.id, "stalled: its orchestration ended or never started; a newer request took its place", now);
    if (failed) replaced = failed;
  }
  throw new Error(`data export of user ${userId}: neither inserted nor found active`);
}

/** An export for its owner, or for an admin; anyone else is told it does not exist. */
export async function dataExportSeenBy(db: Executor, exportId: string, caller: { userId: string; isAdmin: boolean }, now: Date): Promise<Result<DataExportView, "DATA_EXPORT_NOT_FOUND">> {
  const [row] = await db.select().from(dataExports).where(eq(dataExports.id, exportId));
  if (!row || (row.userId !== caller.userId && !caller.isAdmin)) return fail("DATA_EXPORT_NOT_FOUND");
  return ok(viewOf(row, now));
}

/** The caller's exports, newest first (ids are time-ordered); `limit + 1` rows, for the page helper. */
export async function myDataExports(db: Executor, userId: string, page: { limit: number; beforeId?: string }, now: Date): Promise<DataExportView[]> {
  const rows = await db
    .select()
    .from(dataExports)
    .where(and(eq(dataExports.userId, userId), page.beforeId ? lt(dataExports.id, page.beforeId) : undefined))
    .orderBy(desc(dataExports.id))
    .limit(page.limit + 1);
  return rows.map((r) => viewOf(r, now));
}

/**
 * The orchestration begins (or resumes) its work: a pending export becomes running. Null when there is nothing
 * to do (unknown, or already ready, failed or expired), so a replayed start changes nothing.
 */
export async function startDataExport(ctx: DomainContext, exportId: string): Promise<{ userId: string } | null> {
  const [row] = await ctx.db.select().from(dataExports).where(eq(dataExports.id, exportId)).for("update");
  if (!row || (row.status !== "pending" && row.status !== "running")) return null;
  if (row.status === "pending") await ctx.db.update(dataExports).set({ status: "running", startedAt: ctx.now() }).where(eq(dataExports.id, exportId));
  return { userId: row.userId };
}

/** Records that the steps before `next` are done, for the status the owner polls. */
export async function recordExportProgress(db: Executor, exportId: string, stepsDone: number): Promise<void> {
  const step = exportSteps[stepsDone] ?? "done";
  await db
    .update(dataExports)
    .set({ progress: { step, stepsDone, stepsTotal: exportSteps.length } })
    .where(and(eq(dataExports.id, exportId), eq(dataExports.status, "running")));
}

export interface ExportLink {
  url: string;
  expiresAt: Date;
}

/**
 * The archive is written: the export becomes ready until `retentionDays` from now, is audited, and its owner is
 * emailed `link` (a short-lived download link, signed before the transaction) directly, not through an event:
 * the link itself grants access.
 * Only a running export changes, so a retried step sends no second email.
 */
export async function completeDataExport(
  ctx: DomainContext,
  input: { exportId: string; blobName: string; retentionDays: number; link: ExportLink },
): Promise<boolean> {
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + input.retentionDays * 86_400_000);
  const [row] = await ctx.db
    .update(dataExports)
    .set({ status: "ready", blobName: input.blobName, completedAt: now, expiresAt, progress: { step: "done", stepsDone: exportSteps.length, stepsTotal: exportSteps.length } })
    .where(and(eq(dataExports.id, input.exportId), eq(dataExports.status, "running")))
    .returning();
  if (!row) return false;
  await recordAudit(ctx, { action: "privacy.export-ready", actorUserId: null, targetType: "user", targetId: row.userId, details: { exportId: row.id } });
  const [user] = await ctx.db.select({ email: users.email, name: users.displayName, locale: users.locale }).from(users).where(eq(users.id, row.userId));
  if (!user) return true;
  const { link } = input;
  const when = (d: Date) => d.toUTCString();
  await recordDirectEmails(ctx, [
    composeEmail("data-export-ready", user.locale, user.email, {
      name: user.name,
      requestedAt: when(row.requestedAt),
      downloadUrl: link.url,
      linkExpiresAt: when(link.expiresAt),
      expiresAt: when(expiresAt),
    }),
  ]);
  return true;
}

/**
 * Whether an export's archive (or staging) should stay: the export is still running, or is ready with this very
 * archive. False when its row is gone (the user was erased meanwhile) or it failed: what it wrote is an orphan.
 */
export async function exportStillWanted(db: Executor, exportId: string, archiveName: string): Promise<boolean> {
  const [row] = await db.select({ status: dataExports.status, blobName: dataExports.blobName }).from(dataExports).where(eq(dataExports.id, exportId));
  return row !== undefined && (row.status === "running" || (row.status === "ready" && row.blobName === archiveName));
}

/**
 * The export failed (the user may ask again), with the reason for operators. Returns its owner when it was at
 * work until now, null when it had already ended (a ready export stays ready).
 */
export async function failDataExport(db: Executor, exportId: string, error: string, now: Date): Promise<{ userId: string; exportId: string } | null> {
  const [row] = await db
    .update(dataExports)
    .set({ status: "failed", error: error.slice(0, 1000), completedAt: now })
    .where(and(eq(dataExports.id, exportId), inArray(dataExports.status, activeStatuses)))
    .returning({ userId: dataExports.userId, exportId: dataExports.id });
  return row ?? null;
}

/**
 * Exports still at work after EXPORT_MAX_RUN_MS fail (their owner may ask again), and what they wrote is deleted
 * (staged parts hold the person's data); housekeeping runs this. An orchestration still writing discards its own
 * output once it sees the export failed.
 */
export async function failOverlongDataExports(db: Executor, now: Date, files: BlobRemover): Promise<number> {
  const cutoff = new Date(now.getTime() - EXPORT_MAX_RUN_MS);
  const rows = await db
    .update(dataExports)
    .set({ status: "failed", error: "ran too long", completedAt: now })
    .where(and(inArray(dataExports.status, activeStatuses), sql`coalesce(${dataExports.startedAt}, ${dataExports.requestedAt}) < ${cutoff.toISOString()}::timestamptz`))
    .returning({ id: dataExports.id, userId: dataExports.userId });
  for (const row of rows) await discardExportFiles(files, row.userId, row.id);
  return rows.length;
}

/**
 * Deletes the archives of ready exports whose time is up (`deleteArchive` must not fail on a missing blob) and
 * marks them expired; an archive that cannot be deleted now stays ready and is tried again next run.
 */
export async function expireDataExports(db: Executor, now: Date, deleteArchive: (blobName: string) => Promise<void>, limit = 500): Promise<number> {
  const due = await db
    .select({ id: dataExports.id, blobName: dataExports.blobName })
    .from(dataExports)
    .where(and(eq(dataExports.status, "ready"), lte(dataExports.expiresAt, now)))
    .limit(limit);
  let expired = 0;
  for (const row of due) {
    if (row.blobName) await deleteArchive(row.blobName);
    const done = await db
      .update(dataExports)
      .set({ status: "expired", blobName: null })
      .where(and(eq(dataExports.id, row.id), eq(dataExports.status, "ready")))
      .returning({ id: dataExports.id });
    expired += done.length;
  }
  return expired;
}
