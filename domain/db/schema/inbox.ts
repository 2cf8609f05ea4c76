import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";

/** Messages a subscription has already handled, recorded in the handler's own transaction. */
export const inbox = pgTable(
  "inbox",
  {
    subscription: text("subscription").notNull(),
    messageId: text("message_id").notNull(),
    eventType: text("event_type"),
    // processed: handled once; rejected: not a valid event, kept with the reason while it goes to the dead letters
    status: text("status").$type<"processed" | "rejected">().notNull().default("processed"),
    reason: text("reason"),
    processedAt: tstz("processed_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.subscription, t.messageId] }), index("inbox_processed_at_idx").on(t.processedAt)],
);
