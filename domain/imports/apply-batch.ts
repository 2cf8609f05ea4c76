import { and, asc, eq, gt, sql } from "drizzle-orm";
import { type ImportEntityCounts, importRows, type ImportRowOutcome, imports } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { ImportRun, RowOutcome, RowPart, StagedRow } from "./import-kind.js";
import type { ImportRow } from "./import-requests.js";

export type BatchResult =
  /** The batch ran (or had run before: its rows had outcomes); `lastLine` is where the next one starts. */
  | { kind: "applied"; lastLine: number }
  /** No rows after `afterLine`: the part is done. */
  | { kind: "part-done" }
  /** Cancel was asked for, or this run is not the import's current one: nothing was applied. */
  | { kind: "stopped"; reason: "cancelled" | "superseded" };

export interface BatchRequest {
  importId: string;
  run: number;
  afterLine: number;
  batchSize: number;
}

/** What the run's settings add to the import's row, for the kinds (invitation links). */
export interface RunSettings {
  appUrl: string;
  invitationTtlHours: number;
}

/** Adds a batch's outcomes to the import's per-entity counts. */
export function addCounts(counts: ImportEntityCounts, outcomes: readonly { result: ImportRowOutcome["result"]; entity: string }[]): ImportEntityCounts {
  const next: ImportEntityCounts = structuredClone(counts);
  for (const o of outcomes) {
    const c = (next[o.entity] ??= { created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0 });
    c[o.result]++;
  }
  return next;
}

export const tally = (outcomes: readonly { result: ImportRowOutcome["result"] }[]) => ({
  applied: outcomes.filter((o) => o.result === "created" || o.result === "updated" || o.result === "unchanged").length,
  failed: outcomes.filter((o) => o.result === "failed").length,
  skipped: outcomes.filter((o) => o.result === "skipped").length,
});

/**
 * Applies the next batch of a part's staged rows, in the caller's transaction: the rows after `afterLine` that
 * have no outcome yet go to the part, and their outcomes and the import's counters are written in the same
 * transaction, so a batch retried or resumed after it committed finds its rows done and changes nothing. The
 * import's row is locked first: a cancel waits for the batch, and the batch sees a cancel that committed.
 */
export async function applyBatch(ctx: DomainContext, part: RowPart<unknown>, request: BatchRequest, settings: RunSettings): Promise<BatchResult> {
  const [imp] = await ctx.db.select().from(imports).where(eq(imports.id, request.importId)).for("update");
  if (!imp || imp.run !== request.run || imp.status !== "applying") return { kind: "stopped", reason: "superseded" };
  if (imp.cancelRequestedAt) return { kind: "stopped", reason: "cancelled" };
  const range = await ctx.db
    .select({ line: importRows.line, data: importRows.data, outcome: importRows.outcome })
    .from(importRows)
    .where(and(eq(importRows.importId, request.importId), eq(importRows.file, part.file), gt(importRows.line, request.afterLine)))
    .orderBy(asc(importRows.line))
    .limit(request.batchSize);
  const last = range.at(-1);
  if (!last) return { kind: "part-done" };
  const todo: StagedRow<unknown>[] = range.filter((r) => r.outcome === null).map((r) => ({ line: r.line, row: r.data }));
  let counters = {};
  if (todo.length > 0) {
    const run: ImportRun = {
      importId: imp.id,
      dryRun: imp.dryRun,
      importerUserId: imp.createdByUserId,
      courseId: imp.courseId,
      appUrl: settings.appUrl,
      invitationTtlHours: settings.invitationTtlHours,
    };
    const outcomes = await part.apply(ctx, run, todo);
    if (outcomes.length !== todo.length) throw new Error(`part ${part.file} returned ${outcomes.length} outcomes for ${todo.length} rows`);
    counters = await recordOutcomes(ctx, imp, part.file, todo, outcomes);
  }
  // Where the run is, with the batch's counters: one update of the import's row.
  await ctx.db.update(imports).set({ currentPart: part.file, currentLine: last.line, ...counters }).where(eq(imports.id, imp.id));
  return { kind: "applied", lastLine: last.line };
}

/** Writes the rows' outcomes; answers the import's counter columns with them added. */
async function recordOutcomes(ctx: DomainContext, imp: ImportRow, file: string, rows: readonly StagedRow<unknown>[], outcomes: readonly RowOutcome[]) {
  const stored: ImportRowOutcome[] = outcomes.map((o) => ("reason" in o ? { result: o.result, entity: o.entity, reason: o.reason } : { result: o.result, entity: o.entity }));
  // The batch's line range bounds the scan to its own rows on the primary key: joined on the line alone, the
  // planner hashed the batch and read every staged row of the import (and its dead versions) once per batch,
  // which made a 50,000-row import slow down batch after batch.
  const lines = rows.map((r) => r.line);
  await ctx.db.execute(sql`
    update import_rows r set outcome = v.outcome
    from unnest(${sql.param(lines)}::int[], ${sql.param(stored.map((o) => JSON.stringify(o)))}::jsonb[]) as v(line, outcome)
    where r.import_id = ${imp.id} and r.file = ${file} and r.line between ${Math.min(...lines)} and ${Math.max(...lines)}
      and r.line = v.line and r.outcome is null`);
  const t = tally(stored);
  return {
    rowsApplied: sql`${imports.rowsApplied} + ${t.applied}`,
    rowsFailed: sql`${imports.rowsFailed} + ${t.failed}`,
    rowsSkipped: sql`${imports.rowsSkipped} + ${t.skipped}`,
    entityCounts: addCounts(imp.entityCounts, stored),
  };
}
