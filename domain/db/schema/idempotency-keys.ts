import { index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";

/** Stored first responses of creating POSTs, replayed for retries that carry the same Idempotency-Key. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    // route name and caller: one client's key never replays another's response
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    statusCode: integer("status_code").notNull(),
    responseHeaders: jsonb("response_headers").$type<Record<string, string>>().notNull(),
    responseBody: text("response_body"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_expires_at_idx").on(t.expiresAt)],
);
