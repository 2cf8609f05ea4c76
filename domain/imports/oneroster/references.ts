import type { RosterEntity } from "../../db/schema/index.js";
import type { DomainContext } from "../../shared/context.js";
import type { ImportRun } from "../import-kind.js";
import { type Source, sourcesOf, stagedOk, type StagedRow, stagedRows } from "./sources.js";

/**
 * What the sourcedIds a batch refers to (in another file of the bundle) resolve to: a Ringlet record linked
 * earlier, or, in a dry run, a row an earlier part of this bundle staged and would have created. Anything else is
 * a reason a person can act on.
 */
export type Reference = { linked: Source } | { staged: true } | { missing: string };

export interface ReferenceSet<Data> {
  resolve(sourcedId: string): Reference;
  /** The staged row itself (a dry run reads what a row of an earlier file would create). */
  staged(sourcedId: string): StagedRow<Data> | undefined;
}

export async function references<Data = unknown>(
  ctx: DomainContext,
  run: ImportRun,
  target: { entity: RosterEntity; file: string; label: string },
  sourcedIds: readonly string[],
): Promise<ReferenceSet<Data>> {
  const wanted = [...new Set(sourcedIds)];
  const linked = await sourcesOf(ctx.db, target.entity, wanted);
  const unlinked = wanted.filter((id) => !linked.has(id));
  const staged = await stagedRows<Data>(ctx.db, run.importId, target.file, unlinked);
  return {
    resolve(sourcedId) {
      const source = linked.get(sourcedId);
      if (source) return { linked: source };
      const row = staged.get(sourcedId);
      if (!row) return { missing: `${target.label} ${sourcedId} is not in ${target.file}` };
      if (run.dryRun && stagedOk(row)) return { staged: true };
      return { missing: `${target.label} ${sourcedId} was not imported (${target.file} line ${row.line})` };
    },
    staged: (sourcedId) => staged.get(sourcedId),
  };
}
