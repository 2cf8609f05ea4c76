import type { z } from "zod";
import type { DomainContext } from "../shared/context.js";

// The contract between the import pipeline (staging, batches, progress, report) and the kinds of file it imports.
// The pipeline owns the file, the rows' staging and their outcomes; a kind owns what a row means.

export const importKindNames = ["users", "enrollments", "sections", "oneroster"] as const;
export type ImportKindName = (typeof importKindNames)[number];

/** What applying one row came to (in a dry run: what applying it would come to). */
export type RowOutcome =
  | { result: "created" | "updated" | "unchanged"; entity: string }
  | { result: "failed" | "skipped"; entity: string; reason: string };

/** One row as staged: its line number in its file (the header is line 1) and its validated values. */
export interface StagedRow<Row> {
  line: number;
  row: Row;
}

/** The run a batch belongs to. */
export interface ImportRun {
  importId: string;
  dryRun: boolean;
  /** Who started the import: an administrator, or course staff. */
  importerUserId: string;
  /** Set when course staff import: rows may only touch this course. Null for an administrator's import. */
  courseId: string | null;
  /** For invitation emails to the users an import creates. */
  appUrl: string;
  invitationTtlHours: number;
}

/** One CSV file of an import: its columns, its row schema, and how a batch of its rows is applied. */
export interface RowPart<Row = unknown> {
  /** The file's name inside a bundle ("users.csv"); the kind's name for a single-file import. */
  file: string;
  /** What a row becomes, for the per-kind counts ("user", "enrollment", "section", ...). */
  entity: string;
  /** Refused before any row is applied when one is missing, naming each. */
  requiredColumns: readonly string[];
  optionalColumns: readonly string[];
  /** Validates one record keyed by header (cells trimmed, "" when empty); its messages are read by people. */
  schema: z.ZodType<Row>;
  /** Rows of one file with the same key: every later one fails with "duplicate of line N". */
  key(row: Row): string;
  /**
   * Applies a batch (a few hundred rows, in line order) in the caller's transaction and returns one outcome per
   * row, in order; with `run.dryRun` it writes nothing and says what it would do. The pipeline records the
   * outcomes in the same transaction, so a batch that committed is never applied again. A row that cannot be
   * applied is a "failed" outcome with its reason, never a thrown error (a throw rolls the batch back and retries).
   */
  apply(ctx: DomainContext, run: ImportRun, rows: StagedRow<Row>[]): Promise<RowOutcome[]>;
}
