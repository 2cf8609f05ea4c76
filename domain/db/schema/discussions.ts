import { type AnyPgColumn, boolean, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz, tsvector } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

/**
 * A course forum topic: a title and its opening post (the discussion_posts row with no parent). Staff moderate
 * it: pin, lock (no more replies), hide (only staff see it), delete with a reason (soft; audited).
 */
export const discussionTopics = pgTable(
  "discussion_topics",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    authorUserId: uuid("author_user_id").references(() => users.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    pinned: boolean("pinned").notNull().default(false),
    locked: boolean("locked").notNull().default(false),
    hidden: boolean("hidden").notNull().default(false),
    deletedAt: tstz("deleted_at"),
    deletedByUserId: uuid("deleted_by_user_id").references(() => users.id, { onDelete: "set null" }),
    deleteReason: text("delete_reason"),
    replyCount: integer("reply_count").notNull().default(0),
    lastPostAt: tstz("last_post_at").notNull().defaultNow(),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [index("discussion_topics_course_idx").on(t.courseId, t.pinned.desc(), t.lastPostAt.desc(), t.id.desc())],
);

/**
 * A post: a topic's opening post (no parent) or a reply to another post of the same topic (threaded). The author
 * may edit within the edit window and delete (soft); staff hide or delete with a reason. `search` is written with
 * the body, in the course language's text search configuration.
 */
export const discussionPosts = pgTable(
  "discussion_posts",
  {
    id: uuid("id").primaryKey(),
    topicId: belongsTo("topic_id", () => discussionTopics.id),
    courseId: belongsTo("course_id", () => courses.id),
    parentPostId: uuid("parent_post_id").references((): AnyPgColumn => discussionPosts.id, { onDelete: "cascade" }),
    authorUserId: uuid("author_user_id").references(() => users.id, { onDelete: "set null" }),
    bodyMarkdown: text("body_markdown").notNull(),
    bodyHtml: text("body_html").notNull(),
    search: tsvector("search").notNull(),
    hidden: boolean("hidden").notNull().default(false),
    editedAt: tstz("edited_at"),
    deletedAt: tstz("deleted_at"),
    deletedByUserId: uuid("deleted_by_user_id").references(() => users.id, { onDelete: "set null" }),
    deleteReason: text("delete_reason"),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("discussion_posts_topic_idx").on(t.topicId, t.createdAt, t.id),
    index("discussion_posts_course_idx").on(t.courseId),
    index("discussion_posts_author_idx").on(t.authorUserId),
    index("discussion_posts_search_idx").using("gin", t.search),
  ],
);

/** Who follows a topic (new replies notify them); authors and repliers follow automatically. */
export const discussionSubscriptions = pgTable(
  "discussion_subscriptions",
  {
    topicId: belongsTo("topic_id", () => discussionTopics.id),
    userId: belongsTo("user_id", () => users.id),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.topicId, t.userId] }), index("discussion_subscriptions_user_id_idx").on(t.userId)],
);

/** The course members a post mentions (each told once). */
export const discussionMentions = pgTable(
  "discussion_mentions",
  {
    postId: belongsTo("post_id", () => discussionPosts.id),
    userId: belongsTo("user_id", () => users.id),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] }), index("discussion_mentions_user_id_idx").on(t.userId)],
);
