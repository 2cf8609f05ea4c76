import { z } from "zod";
import { importStatuses } from "../../../domain/db/schema/index.js";
import { importKindNames } from "../../../domain/imports/import-kind.js";
import { importContentTypes } from "../../../domain/imports/import-requests.js";
import type { ImportView } from "../../../domain/imports/import-view.js";
import { isoOrNull } from "./dates.js";

const iso = z.iso.datetime();

export const importParams = z.object({ importId: z.uuid() });

export const importRequestBody = z.object({
  fileName: z.string().trim().min(1).max(255),
  contentType: z.enum(importContentTypes).meta({ description: "`text/csv` for users, enrollments and sections; `application/zip` for a OneRoster bundle" }),
  sizeBytes: z.number().int().min(1).meta({ description: "The file's exact size in bytes (at most IMPORT_MAX_BYTES, 100 MB by default)" }),
  courseId: z.uuid().optional().meta({ description: "Course staff import their own course's roster (enrollments, sections); administrators may leave it out" }),
});

export const importStartBody = z.object({
  kind: z.enum(importKindNames),
  dryRun: z.boolean().default(false).meta({ description: "Only say what would happen: every row is checked and counted, nothing is written" }),
});

const counts = z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), failed: z.number().int(), skipped: z.number().int() });

export const importSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(importStatuses),
    kind: z.enum(importKindNames).nullable().meta({ description: "null until started" }),
    dryRun: z.boolean(),
    courseId: z.uuid().nullable(),
    fileName: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    rowsRead: z.number().int(),
    rowsApplied: z.number().int().meta({ description: "Rows created, updated or unchanged (in a dry run: that would be)" }),
    rowsFailed: z.number().int(),
    rowsSkipped: z.number().int(),
    percent: z.number().int().min(0).max(100).meta({ description: "Rows with an outcome out of the rows read" }),
    etaSeconds: z.number().int().nullable().meta({ description: "Time left at the apply rate so far; null before the first batch and once ended" }),
    currentPart: z.string().nullable().meta({ description: "The file being applied" }),
    currentLine: z.number().int().nullable().meta({ description: "The last line applied in it" }),
    counts: z.record(z.string(), counts).meta({ description: "Per entity (user, enrollment, section, ...): what the rows came to" }),
    warnings: z.array(z.string()),
    refusalReason: z.string().nullable().meta({ description: "Why a failed import failed (a refused file names the problem)" }),
    cancelRequested: z.boolean(),
    createdAt: iso,
    startedAt: iso.nullable(),
    stagedAt: iso.nullable(),
    finishedAt: iso.nullable(),
    reportUrl: z.string(),
  })
  .meta({ id: "Import" });

export const importBody = (v: ImportView): z.infer<typeof importSchema> => ({
  id: v.id,
  status: v.status,
  kind: v.kind as z.infer<typeof importSchema>["kind"],
  dryRun: v.dryRun,
  courseId: v.courseId,
  fileName: v.fileName,
  contentType: v.contentType,
  sizeBytes: v.sizeBytes,
  rowsRead: v.rowsRead,
  rowsApplied: v.rowsApplied,
  rowsFailed: v.rowsFailed,
  rowsSkipped: v.rowsSkipped,
  percent: v.percent,
  etaSeconds: v.etaSeconds,
  currentPart: v.currentPart,
  currentLine: v.currentLine,
  counts: v.counts,
  warnings: v.warnings,
  refusalReason: v.refusalReason,
  cancelRequested: v.cancelRequested,
  createdAt: v.createdAt.toISOString(),
  startedAt: isoOrNull(v.startedAt),
  stagedAt: isoOrNull(v.stagedAt),
  finishedAt: isoOrNull(v.finishedAt),
  reportUrl: `/api/v1/imports/${v.id}/report.csv`,
});
