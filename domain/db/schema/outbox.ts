import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";

/**
 * Domain events written in the same transaction as the change that caused them; the relay
 * publishes them to Service Bus after commit. `sequence` gives commit order per aggregate.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: uuid("id").primaryKey(), // the event id (UUIDv7), also the Service Bus messageId
    sequence: bigserial("sequence", { mode: "number" }).notNull().unique(),
    type: text("type").notNull(),
    aggregateType: text("aggregate_type").notNull(),
    aggregateId: text("aggregate_id").notNull(),
    courseId: uuid("course_id"),
    occurredAt: tstz("occurred_at").notNull(),
    actor: jsonb("actor").$type<{ userId: string | null; requestId?: string }>(),
    data: jsonb("data").notNull(),
    traceparent: text("traceparent"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    // null while waiting to be published
    publishedAt: tstz("published_at"),
    publishAttempts: integer("publish_attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    index("outbox_unpublished_sequence_idx").on(t.sequence).where(sql`${t.publishedAt} is null`),
    index("outbox_aggregate_sequence_idx").on(t.aggregateType, t.aggregateId, t.sequence),
    index("outbox_published_at_idx").on(t.publishedAt),
  ],
);
