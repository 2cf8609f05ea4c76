import { sql } from "drizzle-orm";
import { boolean, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

// scheduled: waiting for its grace period (held by a durable timer); cancelled: ended by the user or an admin before
// it was due; completed: the user's personal data was erased.
export const erasureStatuses = ["scheduled", "cancelled", "completed"] as const;
export type ErasureStatus = (typeof erasureStatuses)[number];

/** Requests to erase a user's personal data (right to be forgotten); at most one scheduled per user. */
export const erasureRequests = pgTable(
  "erasure_requests",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    status: text("status").$type<ErasureStatus>().notNull(),
    requestedByUserId: uuid("requested_by_user_id").references(() => users.id, { onDelete: "set null" }),
    dueAt: tstz("due_at").notNull(),
    // true when scheduling disabled the account: cancelling then enables it again (never an account an admin disabled)
    disabledAccount: boolean("disabled_account").notNull().default(false),
    // the emailed cancellation link's token, hashed; the account is disabled, so that link is how its owner cancels
    cancelTokenHash: text("cancel_token_hash"),
    cancelledAt: tstz("cancelled_at"),
    cancelledByUserId: uuid("cancelled_by_user_id").references(() => users.id, { onDelete: "set null" }),
    completedAt: tstz("completed_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("erasure_requests_user_id_scheduled_idx").on(t.userId).where(sql`${t.status} = 'scheduled'`),
    uniqueIndex("erasure_requests_cancel_token_hash_idx").on(t.cancelTokenHash),
    index("erasure_requests_user_id_created_at_idx").on(t.userId, t.createdAt),
  ],
);
