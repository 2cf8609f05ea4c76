import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

export const webhookDisabledReasons = ["admin", "failures"] as const;
export type WebhookDisabledReason = (typeof webhookDisabledReasons)[number];

/** HTTPS endpoints admins registered; each gets the events it filters for, signed with its secret. */
export const webhooks = pgTable("webhooks", {
  id: uuid("id").primaryKey(),
  url: text("url").notNull(),
  // The signing secret, sealed (AES-256-GCM under a key of WEBHOOK_SECRET_KEYS, the key id inside): the receiver
  // needs the same value to verify, so it cannot be a hash. Rows from before sealing hold the plain `whsec_` value
  // until their first delivery or the next rotation seals it.
  secret: text("secret").notNull(),
  // empty means every event type
  eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
  active: boolean("active").notNull().default(true),
  description: text("description").notNull().default(""),
  createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
  // Bumped by every change an admin makes: what the ETag and If-Match compare.
  version: integer("version").notNull().default(1),
  // The current run of failed attempts: reset by a success or by enabling the endpoint again.
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  // The first failed attempt of that run; null while the endpoint answers.
  failingSince: tstz("failing_since"),
  disabledAt: tstz("disabled_at"),
  disabledReason: text("disabled_reason").$type<WebhookDisabledReason>(),
  // Deleted endpoints are kept (inactive) so their delivery log stays readable.
  deletedAt: tstz("deleted_at"),
  ...timestamps,
});

// cancelled: the endpoint was disabled or deleted before the delivery got through; it is not attempted again.
export const deliveryStatuses = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One event for one endpoint: its attempts, the last answer, and when to try again. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    webhookId: belongsTo("webhook_id", () => webhooks.id),
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
