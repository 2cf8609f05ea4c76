import { boolean, pgTable, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns.js";
import { users } from "./users.js";

/**
 * Which optional emails a user wants, one flag per category (domain/notifications/preferences.ts maps templates
 * to categories). No row means every category is on; system mail has no flag and is always sent.
 */
export const notificationPreferences = pgTable("notification_preferences", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  courseUpdates: boolean("course_updates").notNull().default(true),
  grades: boolean("grades").notNull().default(true),
  reminders: boolean("reminders").notNull().default(true),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});
