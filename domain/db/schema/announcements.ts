import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { sections } from "./sections.js";
import { users } from "./users.js";

/**
 * A course announcement by its staff, to the whole course or one section. Published at `publish_at` (now, or
 * later by the announcements timer), exactly once: `published_at` is set in the transaction that records the
 * `announcement.published` event, whose handler fans it out to each recipient's channels.
 */
export const announcements = pgTable(
  "announcements",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    // null: the whole course
    sectionId: uuid("section_id").references(() => sections.id, { onDelete: "cascade" }),
    authorUserId: uuid("author_user_id").references(() => users.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    // what the author wrote, and the sanitised HTML rendered from it (never raw HTML from users)
    bodyMarkdown: text("body_markdown").notNull(),
    bodyHtml: text("body_html").notNull(),
    // urgent announcements reach push and SMS even in quiet hours
    urgent: boolean("urgent").notNull().default(false),
    publishAt: tstz("publish_at").notNull(),
    publishedAt: tstz("published_at"),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("announcements_course_publish_idx").on(t.courseId, t.publishAt.desc(), t.id.desc()),
    index("announcements_due_idx").on(t.publishAt).where(sql`${t.publishedAt} is null`),
  ],
);

/** Which published announcements a user has read. */
export const announcementReads = pgTable(
  "announcement_reads",
  {
    announcementId: belongsTo("announcement_id", () => announcements.id),
    userId: belongsTo("user_id", () => users.id),
    readAt: tstz("read_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.announcementId, t.userId] }), index("announcement_reads_user_id_idx").on(t.userId)],
);
