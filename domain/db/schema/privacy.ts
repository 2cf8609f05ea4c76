import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, tstz } from "./columns.js";
import { users } from "./users.js";

// pending: recorded, its orchestration not yet at work; running; ready: the archive can be downloaded until
// expires_at; failed; expired: the archive was deleted after its retention.
export const dataExportStatuses = ["pending", "running", "ready", "failed", "expired"] as const;
export type DataExportStatus = (typeof dataExportStatuses)[number];

export interface DataExportProgress {
  step: string;
  stepsDone: number;
  stepsTotal: number;
}

/** A user's request for a copy of everything held about them, gathered by a durable orchestration. */
export const dataExports = pgTable(
  "data_exports",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    status: text("status").$type<DataExportStatus>().notNull().default("pending"),
    progress: jsonb("progress").$type<DataExportProgress>().notNull(),
    // the archive in the privacy-exports container; null until it is written, and again once it expired
    blobName: text("blob_name"),
    // why it failed, for operators (never shown to the user in full)
    error: text("error"),
    requestedAt: tstz("requested_at").notNull(),
    startedAt: tstz("started_at"),
    completedAt: tstz("completed_at"),
    // when the archive is deleted (ready exports only)
    expiresAt: tstz("expires_at"),
  },
  (t) => [
    // One export at work per user: a second request, however close, meets this index.
    uniqueIndex("data_exports_user_id_active_idx").on(t.userId).where(sql`${t.status} in ('pending', 'running')`),
    index("data_exports_user_id_requested_at_idx").on(t.userId, t.requestedAt),
    index("data_exports_expires_at_idx").on(t.expiresAt).where(sql`${t.status} = 'ready'`),
  ],
);
