import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

// awaiting-upload: the upload URL was handed out; queued: started, its message on the bulk-imports queue;
// staging: the file is being read into import_rows; applying: batches of rows are being applied; then one of
// completed, failed (refused file, or a step failing every retry) or cancelled (stopped between batches).
export const importStatuses = ["awaiting-upload", "queued", "staging", "applying", "completed", "failed", "cancelled"] as const;
export type ImportStatus = (typeof importStatuses)[number];

export type ImportEntityCounts = Record<string, { created: number; updated: number; unchanged: number; failed: number; skipped: number }>;

/** One uploaded file and its run through the import pipeline. */
export const imports = pgTable(
  "imports",
  {
    id: uuid("id").primaryKey(),
    createdByUserId: belongsTo("created_by_user_id", () => users.id),
    // set for course staff's import: its rows may only touch this course
    courseId: uuid("course_id").references(() => courses.id, { onDelete: "cascade" }),
    // null until started
    kind: text("kind"),
    dryRun: boolean("dry_run").notNull().default(false),
    // bumped at each start (a real run may follow a completed dry run of the same upload): names the run's
    // queue message and Durable instance, so a late message of an earlier run starts nothing
    run: integer("run").notNull().default(0),
    status: text("status").$type<ImportStatus>().notNull().default("awaiting-upload"),
    // null once housekeeping deleted the file after its retention
    blobName: text("blob_name"),
    fileName: text("file_name").notNull(),
    contentType: text("content_type").notNull(),
    declaredSize: integer("declared_size").notNull(),
    // why the file was refused or the run failed, in words for the importer
    refusalReason: text("refusal_reason"),
    warnings: jsonb("warnings").$type<string[]>().notNull().default([]),
    rowsRead: integer("rows_read").notNull().default(0),
    rowsApplied: integer("rows_applied").notNull().default(0),
    rowsFailed: integer("rows_failed").notNull().default(0),
    rowsSkipped: integer("rows_skipped").notNull().default(0),
    entityCounts: jsonb("entity_counts").$type<ImportEntityCounts>().notNull().default({}),
    // the part (file) being applied, and the last line applied in it
    currentPart: text("current_part"),
    currentLine: integer("current_line"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    startedAt: tstz("started_at"),
    stagedAt: tstz("staged_at"),
    finishedAt: tstz("finished_at"),
    cancelRequestedAt: tstz("cancel_requested_at"),
  },
  (t) => [
    index("imports_created_by_user_id_id_idx").on(t.createdByUserId, t.id),
    // the housekeeping re-send of queued imports whose message was lost
    index("imports_queued_idx").on(t.startedAt).where(sql`${t.status} = 'queued'`),
    index("imports_created_at_idx").on(t.createdAt),
  ],
);

export interface ImportRowOutcome {
  result: "created" | "updated" | "unchanged" | "failed" | "skipped";
  entity: string;
  reason?: string;
}

/** One staged row of an import's file, and once applied (or refused at staging) what it came to. */
export const importRows = pgTable(
  "import_rows",
  {
    importId: uuid("import_id")
      .notNull()
      .references(() => imports.id, { onDelete: "cascade" }),
    file: text("file").notNull(),
    line: integer("line").notNull(),
    // the row's duplicate key (lower-cased address for people); null for a row refused at staging
    key: text("key"),
    // the validated row, or for a row refused at staging its raw cells
    data: jsonb("data").notNull(),
    // null until applied; a row refused at staging has its failed outcome from the start
    outcome: jsonb("outcome").$type<ImportRowOutcome>(),
    // the row's email cell, lower-cased, for kinds whose rows name a person by address: what an erasure finds
    // the rows naming its user by (indexed; never a scan of every staged row)
    email: text("email"),
  },
  (t) => [primaryKey({ columns: [t.importId, t.file, t.line] }), index("import_rows_email_idx").on(t.email).where(sql`${t.email} is not null`)],
);
