import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.js";

// pending: recorded with the event, to be sent (or sent again after a failure); sent; failed: given up after the
// maximum number of attempts.
export const emailDeliveryStatuses = ["pending", "sent", "failed"] as const;
export type EmailDeliveryStatus = (typeof emailDeliveryStatuses)[number];

/**
 * One email for one recipient of one event: recorded in the transaction that handles the event, with everything
 * needed to send it, then sent after commit (an outbox); what was sent and what the provider said.
 */
export const emailDeliveries = pgTable(
  "email_deliveries",
  {
    id: uuid("id").primaryKey(),
    eventId: uuid("event_id").notNull(),
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    locale: text("locale").notNull(),
    subject: text("subject").notNull(),
    // The rendered bodies, until the email is sent: their links may carry secrets (invitation tokens). Null on sent rows.
    text: text("text"),
    html: text("html"),
    // Extra message headers (List-Unsubscribe and List-Unsubscribe-Post on optional mail); dropped once sent
    // with the bodies, as the link is a bearer token for the recipient's preferences.
    headers: jsonb("headers").$type<Record<string, string>>(),
    status: text("status").$type<EmailDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    // When the next attempt is due, or until when a sender holds it (its lease); null once sent or failed.
    nextAttemptAt: tstz("next_attempt_at"),
    providerMessageId: text("provider_message_id"),
    sentAt: tstz("sent_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("email_deliveries_event_id_recipient_idx").on(t.eventId, t.recipient),
    index("email_deliveries_recipient_idx").on(t.recipient),
    index("email_deliveries_next_attempt_at_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  ],
);
