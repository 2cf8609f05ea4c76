import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    // stored normalised (trimmed, lower case), so uniqueness is case-insensitive
    email: text("email").notNull(),
    displayName: text("display_name").notNull(),
    // PHC-style string with the KDF parameters; null for users who only sign in through an external issuer
    passwordHash: text("password_hash"),
    isAdmin: boolean("is_admin").notNull().default(false),
    // the bursar: fees, invoices, payments, refunds and the ledger (admins may do all of it too)
    isFinance: boolean("is_finance").notNull().default(false),
    // may create courses (and becomes their instructor) before teaching any: an admin grants it to a new instructor
    isCourseCreator: boolean("is_course_creator").notNull().default(false),
    // the language emails are written in (a BCP 47 tag); falls back to English where no template exists
    locale: text("locale").notNull().default("en"),
    disabledAt: tstz("disabled_at"),
    // set when the user's personal data was erased: the row stays (under a pseudonym) for what refers to it
    erasedAt: tstz("erased_at"),
    // when the user proved they own the address (an emailed link, or an issuer that vouches for it); null until then
    emailVerifiedAt: tstz("email_verified_at"),
    passwordChangedAt: tstz("password_changed_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("users_email_idx").on(t.email), index("users_created_at_id_idx").on(t.createdAt, t.id)],
);

/** Users known through an external OpenID Connect issuer, by (issuer, subject). */
export const externalIdentities = pgTable(
  "external_identities",
  {
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    userId: belongsTo("user_id", () => users.id),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastSeenAt: tstz("last_seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.subject] }), index("external_identities_user_id_idx").on(t.userId)],
);

/**
 * Opaque refresh tokens, stored only as a hash. Each login starts a family; every use rotates to a new
 * token of the same family, and presenting a rotated one revokes the family (theft detection).
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey(),
    familyId: uuid("family_id").notNull(),
    userId: belongsTo("user_id", () => users.id),
    tokenHash: text("token_hash").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    // set when this token was exchanged for its successor
    rotatedAt: tstz("rotated_at"),
    revokedAt: tstz("revoked_at"),
    revokedReason: text("revoked_reason"),
    clientIp: text("client_ip"),
    // the session was signed in with a second factor (every token of a family carries its session's value)
    secondFactor: boolean("second_factor").notNull().default(false),
  },
  (t) => [
    uniqueIndex("refresh_tokens_token_hash_idx").on(t.tokenHash),
    index("refresh_tokens_family_id_idx").on(t.familyId),
    index("refresh_tokens_user_id_idx").on(t.userId).where(sql`${t.revokedAt} is null`),
    index("refresh_tokens_expires_at_idx").on(t.expiresAt),
  ],
);

/** Failed-login counters per account and per client address; functions share no memory, so they live here. */
export const loginThrottles = pgTable(
  "login_throttles",
  {
    // "account:<email>", "ip:<address>" or "totp:<user id>" (wrong two-factor codes)
    key: text("key").primaryKey(),
    failures: integer("failures").notNull().default(0),
    windowStartedAt: tstz("window_started_at").notNull(),
    // null while not locked
    lockedUntil: tstz("locked_until"),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("login_throttles_updated_at_idx").on(t.updatedAt)],
);
