import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";
import { users } from "./users.js";

// verify-email: proves a registered user owns their address; password-reset: replaces a forgotten password;
// account-invitation: an administrator invites an address that has no account yet (not a course invitation).
export const accountTokenPurposes = ["verify-email", "password-reset", "account-invitation"] as const;
export type AccountTokenPurpose = (typeof accountTokenPurposes)[number];

/**
 * Single-use tokens emailed to an address, stored only as a hash. Issuing one for a (purpose, address)
 * supersedes the earlier unused ones, so only the newest link works.
 */
export const accountTokens = pgTable(
  "account_tokens",
  {
    id: uuid("id").primaryKey(),
    purpose: text("purpose").$type<AccountTokenPurpose>().notNull(),
    tokenHash: text("token_hash").notNull(),
    // null for an invitation (no account yet) and for a reset asked for an address without a usable account
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    // invitations: the name the administrator proposed
    displayName: text("display_name"),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
    // a newer token for the same purpose and address replaced it, or an administrator revoked it
    supersededAt: tstz("superseded_at"),
  },
  (t) => [
    uniqueIndex("account_tokens_token_hash_idx").on(t.tokenHash),
    // one live token per purpose and address: a racing second issue fails instead of leaving two
    uniqueIndex("account_tokens_purpose_email_idx").on(t.purpose, t.email).where(sql`${t.usedAt} is null and ${t.supersededAt} is null`),
    index("account_tokens_user_id_idx").on(t.userId),
    index("account_tokens_expires_at_idx").on(t.expiresAt),
  ],
);
