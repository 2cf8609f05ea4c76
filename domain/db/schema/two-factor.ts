import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

/** A user's TOTP authenticator (RFC 6238): one per user, usable once confirmed with a first code. */
export const twoFactorCredentials = pgTable("two_factor_credentials", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  // the base32 secret, sealed (AES-256-GCM under the key ring, bound to the user)
  sealedSecret: text("sealed_secret").notNull(),
  // null while enrollment waits for its first code
  confirmedAt: tstz("confirmed_at"),
  // the newest time step a code was accepted for: a code is accepted once, never for this step or an older one
  lastUsedStep: bigint("last_used_step", { mode: "number" }),
  ...timestamps,
});

/** Single-use recovery codes, stored only as a hash (each holds 120 random bits, so no salt is needed). */
export const twoFactorRecoveryCodes = pgTable(
  "two_factor_recovery_codes",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    codeHash: text("code_hash").notNull(),
    usedAt: tstz("used_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("two_factor_recovery_codes_code_hash_idx").on(t.codeHash), index("two_factor_recovery_codes_user_id_idx").on(t.userId).where(sql`${t.usedAt} is null`)],
);

/** The second step of a sign-in: a short-lived, single-use token handed out after a correct password. */
export const twoFactorChallenges = pgTable(
  "two_factor_challenges",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    tokenHash: text("token_hash").notNull(),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
    // wrong codes answered for this challenge; it dies at the limit, whatever the account's throttle says
    failedAttempts: integer("failed_attempts").notNull().default(0),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("two_factor_challenges_token_hash_idx").on(t.tokenHash), index("two_factor_challenges_expires_at_idx").on(t.expiresAt)],
);
