import { sql } from "drizzle-orm";
import { type AnyPgColumn, boolean, check, date, index, integer, pgTable, smallint, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { sections } from "./sections.js";
import { users } from "./users.js";

/**
 * A weekly recurrence rule as the instructor wrote it: wall-clock start time in a time zone, on some weekdays,
 * from a first date to a last one (a rule must end). Its occurrences are materialised as `class_sessions` rows.
 */
export const sessionSeries = pgTable(
  "session_series",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    // null: the whole course
    sectionId: uuid("section_id").references((): AnyPgColumn => sections.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    // IANA zone the wall-clock times are in ("Europe/Madrid")
    timeZone: text("time_zone").notNull(),
    // ISO weekdays, 1 = Monday … 7 = Sunday
    weekdays: smallint("weekdays").array().notNull(),
    // "HH:MM" local time
    startTime: text("start_time").notNull(),
    durationMinutes: integer("duration_minutes").notNull(),
    startsOn: date("starts_on", { mode: "string" }).notNull(),
    // inclusive; the term end
    until: date("until", { mode: "string" }).notNull(),
    // local dates without an occurrence (holidays)
    exceptions: date("exceptions", { mode: "string" }).array().notNull().default(sql`'{}'::date[]`),
    location: text("location"),
    onlineUrl: text("online_url"),
    staffUserId: uuid("staff_user_id").references(() => users.id, { onDelete: "set null" }),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("session_series_course_id_idx").on(t.courseId),
    check("session_series_duration_check", sql`${t.durationMinutes} > 0 and ${t.durationMinutes} <= 1440`),
    check("session_series_range_check", sql`${t.until} >= ${t.startsOn}`),
  ],
);

export const sessionStatuses = ["scheduled", "cancelled"] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

/** One class meeting: a one-off session, or one occurrence of a series (which may be changed on its own). */
export const classSessions = pgTable(
  "class_sessions",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    sectionId: uuid("section_id").references((): AnyPgColumn => sections.id, { onDelete: "cascade" }),
    // null for a one-off session; set null when the series is deleted so taken attendance survives
    seriesId: uuid("series_id").references((): AnyPgColumn => sessionSeries.id, { onDelete: "set null" }),
    // the series occurrence this row is (local date in the series' zone); stays when the occurrence is moved
    occurrenceDate: date("occurrence_date", { mode: "string" }),
    // true once this occurrence was changed on its own: "all following" changes leave it alone
    detached: boolean("detached").notNull().default(false),
    title: text("title").notNull(),
    startsAt: tstz("starts_at").notNull(),
    endsAt: tstz("ends_at").notNull(),
    timeZone: text("time_zone").notNull(),
    location: text("location"),
    onlineUrl: text("online_url"),
    staffUserId: uuid("staff_user_id").references(() => users.id, { onDelete: "set null" }),
    status: text("status").$type<SessionStatus>().notNull().default("scheduled"),
    cancelledAt: tstz("cancelled_at"),
    cancelReason: text("cancel_reason"),
    // self check-in: open until this instant (null: closed); codes are TOTP codes of this secret
    checkInSecret: text("check_in_secret"),
    checkInOpenUntil: tstz("check_in_open_until"),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("class_sessions_course_id_starts_at_idx").on(t.courseId, t.startsAt),
    index("class_sessions_starts_at_idx").on(t.startsAt),
    uniqueIndex("class_sessions_series_id_occurrence_date_idx").on(t.seriesId, t.occurrenceDate),
    check("class_sessions_time_check", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

/** A user's secret calendar feed URL; only the token's hash is kept. Revoking ends it; a new one may be made. */
export const calendarFeeds = pgTable(
  "calendar_feeds",
  {
    id: uuid("id").primaryKey(),
    userId: belongsTo("user_id", () => users.id),
    tokenHash: text("token_hash").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    revokedAt: tstz("revoked_at"),
    lastFetchedAt: tstz("last_fetched_at"),
  },
  (t) => [
    uniqueIndex("calendar_feeds_token_hash_idx").on(t.tokenHash),
    // one live feed per user
    uniqueIndex("calendar_feeds_user_id_live_idx").on(t.userId).where(sql`${t.revokedAt} is null`),
  ],
);
