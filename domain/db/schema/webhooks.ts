import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

/** HTTPS endpoints admins registered; each gets the events it filters for, signed with its secret. */
export const webhooks = pgTable("webhooks", {
  id: uuid("id").primaryKey(),
  url: text("url").notNull(),
  // the signing secret: the receiver needs the same value to verify, so it cannot be only a hash
  secret: text("secret").notNull(),
  // empty means every event type
  eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
  active: boolean("active").notNull().default(true),
  description: text("description").notNull().default(""),
  createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
  ...timestamps,
});

export const deliveryStatuses = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One event for one endpoint: its attempts, the last answer, and when to try again. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    webhookId: uuid("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastLatencyMs: integer("last_latency_ms"),
    lastError: text("last_error"),
    // null once no further attempt is planned
    nextAttemptAt: tstz("next_attempt_at"),
    deliveredAt: tstz("delivered_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("webhook_deliveries_webhook_id_event_id_idx").on(t.webhookId, t.eventId),
    index("webhook_deliveries_next_attempt_at_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_webhook_id_id_idx").on(t.webhookId, t.id),
  ],
);
