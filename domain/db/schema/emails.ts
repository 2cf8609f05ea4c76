import { index, integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.js";

/** One email for one recipient of one event: sent once, with what was sent and what the provider said. */
export const emailDeliveries = pgTable(
  "email_deliveries",
  {
    id: uuid("id").primaryKey(),
    eventId: uuid("event_id").notNull(),
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    locale: text("locale").notNull(),
    subject: text("subject").notNull(),
    status: text("status").$type<"sent" | "failed">().notNull(),
    attempts: integer("attempts").notNull().default(1),
    providerMessageId: text("provider_message_id"),
    sentAt: tstz("sent_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("email_deliveries_event_id_recipient_idx").on(t.eventId, t.recipient), index("email_deliveries_recipient_idx").on(t.recipient)],
);
