import { sql } from "drizzle-orm";
import { boolean, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";
import { users } from "./users.js";

/**
 * What a user wants to be sent, and how (domain/notifications/preferences.ts maps templates to categories). No
 * row means the defaults: every email category on, push for every category, no SMS, no quiet hours. System
 * notifications have no category and are always emailed. The inbox always gets everything.
 */
export const notificationPreferences = pgTable("notification_preferences", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  // email, one flag per category
  courseUpdates: boolean("course_updates").notNull().default(true),
  grades: boolean("grades").notNull().default(true),
  reminders: boolean("reminders").notNull().default(true),
  announcements: boolean("announcements").notNull().default(true),
  discussions: boolean("discussions").notNull().default(true),
  // the categories sent by push (to every registered subscription) and by SMS (to the verified number)
  pushCategories: text("push_categories")
    .array()
    .notNull()
    .default(sql`'{courseUpdates,grades,reminders,announcements,discussions}'::text[]`),
  smsCategories: text("sms_categories").array().notNull().default(sql`'{}'::text[]`),
  // quiet hours ("HH:MM" local to time_zone, an IANA zone): non-urgent push and SMS wait until they end
  quietHoursStart: text("quiet_hours_start"),
  quietHoursEnd: text("quiet_hours_end"),
  timeZone: text("time_zone"),
  // discussion emails (replies, mentions) batched into a daily digest instead of one email each
  discussionDigest: boolean("discussion_digest").notNull().default(false),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});
