import { and, asc, eq, gt, isNotNull, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type ImportEntityCounts, importRows, type ImportRowOutcome, type ImportStatus } from "../db/schema/index.js";
import { csvRow } from "../shared/csv.js";
import { ok, type Result } from "../shared/result.js";
import { type Importer, type ImportRow, importSeenBy } from "./import-requests.js";
import type { ImportErrorCode } from "./imports.errors.js";
import { importKind } from "./kinds/index.js";

/** An import as its importer sees it, with progress worked out from its counters. */
export interface ImportView {
  id: string;
  status: ImportStatus;
  kind: string | null;
  dryRun: boolean;
  courseId: string | null;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  rowsRead: number;
  rowsApplied: number;
  rowsFailed: number;
  rowsSkipped: number;
  counts: ImportEntityCounts;
  /** Rows with an outcome out of the rows read; 100 once the import ended. */
  percent: number;
  /** Seconds left at the apply rate so far; null before the first batch and once ended. */
  etaSeconds: number | null;
  currentPart: string | null;
  currentLine: number | null;
  warnings: string[];
  refusalReason: string | null;
  cancelRequested: boolean;
  createdAt: Date;
  startedAt: Date | null;
  stagedAt: Date | null;
  finishedAt: Date | null;
}

const ended = new Set<ImportStatus>(["completed", "failed", "cancelled"]);

export function importView(row: ImportRow, now: Date): ImportView {
  const done = row.rowsApplied + row.rowsFailed + row.rowsSkipped;
  const percent = row.status === "completed" ? 100 : row.rowsRead > 0 ? Math.min(100, Math.floor((100 * done) / row.rowsRead)) : 0;
  let etaSeconds: number | null = null;
  if (row.status === "applying" && row.stagedAt && done > 0) {
    const elapsed = Math.max(1, now.getTime() - row.stagedAt.getTime()) / 1000;
    etaSeconds = Math.ceil(((row.rowsRead - done) * elapsed) / done);
  }
  return {
    id: row.id,
    status: row.status,
    kind: row.kind,
    dryRun: row.dryRun,
    courseId: row.courseId,
    fileName: row.fileName,
    contentType: row.contentType,
    sizeBytes: row.declaredSize,
    rowsRead: row.rowsRead,
    rowsApplied: row.rowsApplied,
    rowsFailed: row.rowsFailed,
    rowsSkipped: row.rowsSkipped,
    counts: row.entityCounts,
    percent,
    etaSeconds: ended.has(row.status) ? null : etaSeconds,
    currentPart: row.currentPart,
    currentLine: row.currentLine,
    warnings: row.warnings,
    refusalReason: row.refusalReason,
    cancelRequested: row.cancelRequestedAt !== null,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    stagedAt: row.stagedAt,
    finishedAt: row.finishedAt,
  };
}

/** Rows in one page of the report (a page is one response; the next is linked). */
export const REPORT_PAGE_ROWS = 20_000;
const READ_ROWS = 1_000;

export interface ReportPosition {
  file: string;
  line: number;
}

/**
 * One page of the import's report as CSV: `file,line,entity,result,reason`, then the kind's columns with the
 * row's cells. Failed and skipped rows; with `all`, every row (one without an outcome was not applied:
 * `not-applied`). Read a thousand rows at a time by keyset (file, line); `next` is where the next page starts.
 */
export async function importReportPage(
  db: Executor,
  importId: string,
  options: { all: boolean; columns: readonly string[]; after: ReportPosition | null; limit?: number },
): Promise<{ csv: string; next: ReportPosition | null }> {
  const limit = options.limit ?? REPORT_PAGE_ROWS;
  const out: string[] = [csvRow(["file", "line", "entity", "result", "reason", ...options.columns])];
  let after = options.after;
  let taken = 0;
  while (taken < limit) {
    const page: { file: string; line: number; data: unknown; outcome: ImportRowOutcome | null }[] = await db
      .select({ file: importRows.file, line: importRows.line, data: importRows.data, outcome: importRows.outcome })
      .from(importRows)
      .where(
        and(
          eq(importRows.importId, importId),
          options.all ? undefined : and(isNotNull(importRows.outcome), sql`${importRows.outcome}->>'result' in ('failed', 'skipped')`),
          after ? or(gt(importRows.file, after.file), and(eq(importRows.file, after.file), gt(importRows.line, after.line))) : undefined,
        ),
      )
      .orderBy(asc(importRows.file), asc(importRows.line))
      .limit(Math.min(READ_ROWS, limit - taken));
    for (const r of page) {
      out.push(csvRow([r.file, r.line, r.outcome?.entity ?? "", r.outcome?.result ?? "not-applied", r.outcome?.reason ?? "", ...options.columns.map((c) => cellOf(r.data, c))]));
    }
    taken += page.length;
    const last = page.at(-1);
    if (!last || page.length < Math.min(READ_ROWS, limit - taken + page.length)) return { csv: out.join(""), next: null };
    after = { file: last.file, line: last.line };
  }
  return { csv: out.join(""), next: after };
}

/**
 * The report of an import the caller may see (its importer, or an administrator): one page, with the columns of
 * the import's kind.
 */
export async function importReportFor(
  db: Executor,
  importId: string,
  caller: Importer,
  options: { all: boolean; after: ReportPosition | null },
): Promise<Result<{ import: ImportRow; page: { csv: string; next: ReportPosition | null } }, ImportErrorCode>> {
  const found = await importSeenBy(db, importId, caller);
  if (!found.ok) return found;
  const parts = found.value.kind ? (importKind(found.value.kind) ?? []) : [];
  const columns = [...new Set(parts.flatMap((p) => [...p.requiredColumns, ...p.optionalColumns]))];
  return ok({ import: found.value, page: await importReportPage(db, importId, { ...options, columns }) });
}

// A cell of the row as staged: the importer's text for a refused row, the validated value for the others.
function cellOf(data: unknown, column: string): string {
  const v = data && typeof data === "object" ? (data as Record<string, unknown>)[column] : undefined;
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}
