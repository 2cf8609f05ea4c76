import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";

/** Security-relevant actions: who did what to whom, when, from where. Append-only. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: uuid("id").primaryKey(),
    occurredAt: tstz("occurred_at").notNull().defaultNow(),
    action: text("action").notNull(),
    actorUserId: uuid("actor_user_id"),
    targetType: text("target_type"),
    targetId: text("target_id"),
    requestId: text("request_id"),
    clientIp: text("client_ip"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index("audit_log_occurred_at_idx").on(t.occurredAt),
    index("audit_log_action_occurred_at_idx").on(t.action, t.occurredAt),
    index("audit_log_actor_user_id_idx").on(t.actorUserId),
    index("audit_log_target_idx").on(t.targetType, t.targetId),
  ],
);
