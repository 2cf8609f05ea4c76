import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { and, eq } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { importRows } from "../../../domain/db/schema/index.js";
import type { ImportRun, RowOutcome, RowPart } from "../../../domain/imports/import-kind.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf } from "../../support/domain-database.js";

export const fixtureDir = join(import.meta.dirname, "../../fixtures/oneroster");

/** The fixture's files, by name; `edit` changes one file's text first. */
export function fixtureFiles(edit: Record<string, (text: string) => string> = {}): Record<string, string> {
  const names = ["manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv", "enrollments.csv"];
  return Object.fromEntries(names.map((n) => [n, (edit[n] ?? ((t: string) => t))(readFileSync(join(fixtureDir, n), "utf8"))]));
}

/**
 * Runs a bundle's parts the way the pipeline does, without it: each file staged into import_rows (records keyed by
 * lower-cased header, validated by the part's schema), then applied part by part in batches, each batch in its own
 * transaction with its outcomes recorded. Returns the outcomes per file.
 */
export async function runBundle(
  db: TestDatabase,
  ctx: DomainContext,
  parts: readonly RowPart<unknown>[],
  files: Record<string, string>,
  options: { importerUserId: string; dryRun: boolean; batchSize?: number },
): Promise<Record<string, RowOutcome[]>> {
  const importId = uuidv7();
  await db.sql`insert into imports (id, created_by_user_id, kind, dry_run, status, file_name, content_type, declared_size)
    values (${importId}, ${options.importerUserId}, 'oneroster', ${options.dryRun}, 'applying', 'bundle.zip', 'application/zip', 1)`;
  const run: ImportRun = { importId, dryRun: options.dryRun, importerUserId: options.importerUserId, courseId: null, appUrl: "http://app.test", invitationTtlHours: 24 };
  const result: Record<string, RowOutcome[]> = {};
  for (const part of parts) {
    const [header, ...records] = parse(files[part.file] ?? "", { skip_empty_lines: true }) as string[][];
    const columns = (header ?? []).map((h) => h.toLowerCase());
    const staged: { line: number; row: unknown; outcome: RowOutcome | null }[] = [];
    records.forEach((cells, i) => {
      const raw = Object.fromEntries([...part.requiredColumns, ...part.optionalColumns].map((c) => [c, (cells[columns.indexOf(c)] ?? "").trim()]));
      const parsed = part.schema.safeParse(raw);
      staged.push(
        parsed.success
          ? { line: i + 2, row: parsed.data, outcome: null }
          : { line: i + 2, row: raw, outcome: { result: "failed", entity: part.entity, reason: parsed.error.issues.map((x) => x.message).join("; ") } },
      );
    });
    if (staged.length > 0) {
      await db.db
        .insert(importRows)
        .values(staged.map((s) => ({ importId, file: part.file, line: s.line, key: s.outcome ? null : part.key(s.row), data: s.row, outcome: s.outcome })));
    }
    const toApply = staged.filter((s) => s.outcome === null);
    const size = options.batchSize ?? 500;
    for (let at = 0; at < toApply.length; at += size) {
      const batch = toApply.slice(at, at + size);
      const outcomes = await inTransactionOf(db, ctx)(async (tx) => {
        const out = await part.apply(tx, run, batch.map((s) => ({ line: s.line, row: s.row })));
        for (const [i, s] of batch.entries()) {
          await tx.db
            .update(importRows)
            .set({ outcome: out[i] as RowOutcome })
            .where(and(eq(importRows.importId, importId), eq(importRows.file, part.file), eq(importRows.line, s.line)));
        }
        return out;
      });
      batch.forEach((s, i) => (s.outcome = outcomes[i] ?? null));
    }
    result[part.file] = staged.map((s) => s.outcome as RowOutcome);
  }
  return result;
}

/** Outcomes of a file counted by result: { created: 2, failed: 1 }. */
export const tally = (outcomes: readonly RowOutcome[] | undefined) =>
  (outcomes ?? []).reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.result]: (acc[o.result] ?? 0) + 1 }), {});

/** Outcomes of a file counted by entity and result: { "staff created": 2, "enrollment skipped": 1 }. */
export const tallyByEntity = (outcomes: readonly RowOutcome[] | undefined) =>
  (outcomes ?? []).reduce<Record<string, number>>((acc, o) => ({ ...acc, [`${o.entity} ${o.result}`]: (acc[`${o.entity} ${o.result}`] ?? 0) + 1 }), {});
