import { integer, pgTable, primaryKey, real, uuid } from "drizzle-orm/pg-core";
import { courses } from "./courses.js";
import { tstz } from "./columns.js";
import { users } from "./users.js";

/** A learner's progress in a course, recomputed from the record (completions, grades) on every relevant event. */
export const courseProgress = pgTable(
  "course_progress",
  {
    courseId: uuid("course_id")
      .notNull()
      .references(() => courses.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    percent: real("percent").notNull(),
    // bumped on every stored change; progress.updated carries it so read models keep the newest
    revision: integer("revision").notNull().default(0),
    // set once, when the completion rules were first met; course.completed is written with it
    completedAt: tstz("completed_at"),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] })],
);
