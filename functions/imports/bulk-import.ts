import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { applyBatch, type BatchResult } from "../../domain/imports/apply-batch.js";
import { beginImportRun, failImport, finishImport, type ImportPhase, refuseImport, stageImport } from "../../domain/imports/import-lifecycle.js";
import { importKind } from "../../domain/imports/kinds/index.js";
import { inDomainTransaction } from "../platform/domain-transaction.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { importPartOpener } from "./import-files.js";

export interface ImportRunInput {
  importId: string;
  run: number;
  traceparent: string | null;
}

/** Where a run stands, carried across continueAsNew so a long import's history stays short. */
interface ImportRunState extends ImportRunInput {
  applying?: { kind: string; importerUserId: string; files: string[]; partIndex: number; afterLine: number };
}

export const importInstanceId = (importId: string, run: number) => `import-${importId}-${run}`;

// Batches per orchestration history before it continues as new (each batch adds a few history events).
const BATCHES_PER_HISTORY = 100;

const partsOf = (kind: string) => {
  const parts = importKind(kind);
  if (!parts) throw new Error(`import kind ${kind} is not available`);
  return parts;
};

const begin = df.app.activity("import-begin", {
  handler: async (input: ImportRunInput): Promise<ImportPhase> =>
    inDomainTransaction(platform(), { traceparent: input.traceparent }, (ctx) => beginImportRun(ctx, input.importId, input.run)),
});

/**
 * Reads every part of the file into import_rows. A refused file fails the import with the reason (its staged rows
 * deleted: nothing was applied) and returns false; so does a run that is no longer staging (unless a replay finds
 * it applying already).
 */
const stage = df.app.activity("import-stage", {
  handler: async (input: ImportRunInput & { kind: string; importerUserId: string; blobName: string; contentType: string }): Promise<boolean> => {
    const p = platform();
    const s = p.settings;
    const open = importPartOpener(p.files, input.blobName, input.contentType);
    const staged = await stageImport(p.database.db, input.importId, input.run, partsOf(input.kind), open, { maxLineBytes: s.IMPORT_MAX_LINE_BYTES, maxRows: s.IMPORT_MAX_ROWS }, p.clock);
    if (staged.kind !== "refused") return staged.kind === "applying";
    await inDomainTransaction(p, { userId: input.importerUserId, traceparent: input.traceparent }, (ctx) => refuseImport(ctx, input.importId, input.run, staged.reason));
    return false;
  },
});

/** One batch of a part's rows, applied with its outcomes in one transaction (see applyBatch). */
const applyNext = df.app.activity("import-batch", {
  handler: async (input: ImportRunInput & { kind: string; importerUserId: string; file: string; afterLine: number }): Promise<BatchResult> => {
    const p = platform();
    const part = partsOf(input.kind).find((x) => x.file === input.file);
    if (!part) throw new Error(`import kind ${input.kind} has no part ${input.file}`);
    return inDomainTransaction(p, { userId: input.importerUserId, traceparent: input.traceparent }, (ctx) =>
      applyBatch(ctx, part, { importId: input.importId, run: input.run, afterLine: input.afterLine, batchSize: p.settings.IMPORT_BATCH_SIZE }, {
        appUrl: p.settings.PUBLIC_APP_URL,
        invitationTtlHours: p.settings.AUTH_INVITATION_TTL_H,
      }),
    );
  },
});

const finish = df.app.activity("import-finish", {
  handler: async (input: ImportRunInput & { importerUserId: string; how: "completed" | "cancelled" }) => {
    await inDomainTransaction(platform(), { userId: input.importerUserId, traceparent: input.traceparent }, (ctx) => finishImport(ctx, input.importId, input.run, input.how));
  },
});

const giveUp = df.app.activity("import-fail", {
  handler: async (input: ImportRunInput & { error: string }) => {
    const p = platform();
    createLogger({ level: p.settings.LOG_LEVEL, fields: { activity: "import-fail" } }).error("import failed", { importId: input.importId, run: input.run, error: input.error });
    await inDomainTransaction(p, { traceparent: input.traceparent }, (ctx) =>
      failImport(ctx, input.importId, input.run, "A step of the import failed repeatedly; rows applied before it stay applied (see the report with rows=all)."),
    );
  },
});

// 2 s, 4 s, 8 s, ... up to 2 min between attempts: about 10 minutes in all, long enough to ride out a database
// failover or a restart of the runtime's dependencies.
const retry = Object.assign(new df.RetryOptions(2_000, 10), { backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 120_000 });

/**
 * bulkImport: begin (a queued run moves to staging) → stage (the file read into import_rows, validated; a refused
 * file fails the import with nothing applied) → batches of each part in order, each one transaction with its
 * outcomes, cancel checked before each → completed (or cancelled), with the event that emails the importer.
 * A crash anywhere resumes from the rows' outcomes; a step that fails every retry fails the import.
 */
const orchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ImportRunState>();
  const run: ImportRunInput = { importId: input.importId, run: input.run, traceparent: input.traceparent };
  try {
    let state = input.applying;
    if (!state) {
      const phase: ImportPhase = yield begin(run).withRetry(retry);
      if (phase.phase === "none") return { importId: input.importId, done: false };
      if (phase.phase === "stage") {
        context.df.setCustomStatus({ step: "staging" });
        const staged: boolean = yield stage({ ...run, kind: phase.kind, importerUserId: phase.importerUserId, blobName: phase.blobName, contentType: phase.contentType }).withRetry(retry);
        if (!staged) return { importId: input.importId, done: false };
      }
      state = { kind: phase.kind, importerUserId: phase.importerUserId, files: partsOf(phase.kind).map((p) => p.file), partIndex: 0, afterLine: 0 };
    }
    let batches = 0;
    while (state.partIndex < state.files.length) {
      const file = state.files[state.partIndex] as string;
      context.df.setCustomStatus({ step: "applying", part: file, afterLine: state.afterLine });
      const result: BatchResult = yield applyNext({ ...run, kind: state.kind, importerUserId: state.importerUserId, file, afterLine: state.afterLine }).withRetry(retry);
      if (result.kind === "stopped") {
        if (result.reason === "cancelled") yield finish({ ...run, importerUserId: state.importerUserId, how: "cancelled" }).withRetry(retry);
        return { importId: input.importId, done: false };
      }
      state = result.kind === "part-done" ? { ...state, partIndex: state.partIndex + 1, afterLine: 0 } : { ...state, afterLine: result.lastLine };
      if (++batches >= BATCHES_PER_HISTORY) {
        context.df.continueAsNew({ ...input, applying: state } satisfies ImportRunState);
        return undefined;
      }
    }
    context.df.setCustomStatus({ step: "done" });
    yield finish({ ...run, importerUserId: state.importerUserId, how: "completed" }).withRetry(retry);
    return { importId: input.importId, done: true };
  } catch (err) {
    yield giveUp({ ...run, error: err instanceof Error ? err.message : String(err) }).withRetry(retry);
    return { importId: input.importId, done: false };
  }
};

df.app.orchestration("bulkImport", orchestrator);
