import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { completeDataExport, discardExportStaging, exportArchiveName, failDataExport, keepIfWanted, recordExportProgress, startDataExport } from "../../domain/privacy/data-exports.js";
import { personalDataPart, personalDataParts } from "../../domain/privacy/personal-data.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { stagePart, writeArchive } from "./export-archive.js";

export interface DataExportInput {
  exportId: string;
  traceparent: string | null;
}

export const dataExportInstanceId = (exportId: string) => `data-export-${exportId}`;

const begin = df.app.activity("data-export-start", {
  handler: async (input: DataExportInput) => inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => startDataExport(ctx, input.exportId)),
});

/** One part to its staging blob; its progress is recorded once it is there. Returns the part's record count. */
const gatherPart = df.app.activity("data-export-part", {
  handler: async (input: { exportId: string; userId: string; part: string; stepsDone: number }) => {
    const p = platform();
    const part = personalDataPart(input.part);
    if (!part) throw new Error(`no personal-data part ${input.part}`);
    const records = await stagePart(p.files, input.exportId, part, { db: p.database.db, activity: p.activity }, input.userId);
    await recordExportProgress(p.database.db, input.exportId, input.stepsDone + 1);
    return records;
  },
});

/** The archive's name, or null when the export is no longer wanted (what it had written is deleted). */
const zipParts = df.app.activity("data-export-archive", {
  handler: async (input: { exportId: string; userId: string; records: Record<string, number>; stepsDone: number }): Promise<string | null> => {
    const p = platform();
    const archiveName = exportArchiveName(input.userId, input.exportId);
    // Erased (the row deleted) or failed since the parts were staged: nothing to zip, and the staging goes.
    if (!(await keepIfWanted(p.database.db, p.files, input, archiveName))) return null;
    const written = await writeArchive(p.files, p.database.db, { exportId: input.exportId, userId: input.userId, archiveName, records: input.records, generatedAt: p.clock() });
    if (written.missing.length > 0) {
      createLogger({ level: p.settings.LOG_LEVEL, fields: { activity: "data-export-archive" } }).warn("data export without some files", { exportId: input.exportId, missing: written.missing.length });
    }
    await recordExportProgress(p.database.db, input.exportId, input.stepsDone + 1);
    // Erased while the archive was written: the erasure deleted the user's prefix before this blob existed.
    return (await keepIfWanted(p.database.db, p.files, input, archiveName)) ? archiveName : null;
  },
});

/** Ready, audited, and the owner emailed a short-lived link (sent right after the commit). */
const complete = df.app.activity("data-export-complete", {
  handler: async (input: { exportId: string; userId: string; blobName: string; traceparent: string | null }) => {
    const p = platform();
    const s = p.settings;
    // The link never outlives the archive.
    const ttlSeconds = Math.min(s.PRIVACY_EXPORT_LINK_TTL_H * 3600, s.PRIVACY_EXPORT_RETENTION_DAYS * 86_400);
    const link = await p.files.downloadUrl(input.blobName, ttlSeconds, "ringlet-data-export.zip");
    await inDomainTransaction(p, { traceparent: input.traceparent }, (ctx) =>
      completeDataExport(ctx, { exportId: input.exportId, blobName: input.blobName, retentionDays: s.PRIVACY_EXPORT_RETENTION_DAYS, link }),
    );
    // Ready (now, or by an earlier try of this step): the staging goes. Gone or failed meanwhile: the archive too.
    if (await keepIfWanted(p.database.db, p.files, input, input.blobName)) await discardExportStaging(p.files, input.userId, input.exportId);
  },
});

const giveUp = df.app.activity("data-export-fail", {
  handler: async (input: { exportId: string; userId: string | null; error: string }) => {
    const p = platform();
    await failDataExport(p.database.db, input.exportId, input.error, p.clock());
    // A failed export's staged parts hold the user's data: they go with it (a partly written archive too). An
    // export already ready (the complete step committed, then failed afterwards) keeps its archive.
    if (input.userId) await keepIfWanted(p.database.db, p.files, { userId: input.userId, exportId: input.exportId }, exportArchiveName(input.userId, input.exportId));
  },
});

const retry = new df.RetryOptions(2_000, 5);

/**
 * dataExport: start → each part of the person's data to a staging blob (one activity each, so the status shows
 * progress and a crash resumes after the last part done) → the zip streamed to Blob Storage → ready and emailed.
 * A step that fails every retry fails the export, and the user may ask again.
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<DataExportInput>();
  let userId: string | null = null;
  try {
    const started: { userId: string } | null = yield begin(input).withRetry(retry);
    if (!started) return { exportId: input.exportId, done: false };
    userId = started.userId;
    const records: Record<string, number> = {};
    for (const [i, part] of personalDataParts.entries()) {
      context.df.setCustomStatus({ step: part.name, stepsDone: i });
      records[part.name] = yield gatherPart({ exportId: input.exportId, userId: started.userId, part: part.name, stepsDone: i }).withRetry(retry);
    }
    context.df.setCustomStatus({ step: "archive", stepsDone: personalDataParts.length });
    const blobName: string | null = yield zipParts({ exportId: input.exportId, userId: started.userId, records, stepsDone: personalDataParts.length }).withRetry(retry);
    if (blobName === null) return { exportId: input.exportId, done: false };
    context.df.setCustomStatus({ step: "notify", stepsDone: personalDataParts.length + 1 });
    yield complete({ exportId: input.exportId, userId: started.userId, blobName, traceparent: input.traceparent }).withRetry(retry);
    context.df.setCustomStatus({ step: "done", stepsDone: personalDataParts.length + 2 });
    return { exportId: input.exportId, done: true };
  } catch (err) {
    yield giveUp({ exportId: input.exportId, userId, error: err instanceof Error ? err.message : String(err) }).withRetry(retry);
    return { exportId: input.exportId, done: false };
  }
};

df.app.orchestration("dataExport", orchestrator);
