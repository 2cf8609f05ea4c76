import { integer, pgTable, primaryKey, real } from "drizzle-orm/pg-core";
import { courses } from "./courses.js";
import { belongsTo, tstz } from "./columns.js";
import { users } from "./users.js";

/** A learner's progress in a course, recomputed from the record (completions, grades) on every relevant event. */
export const courseProgress = pgTable(
  "course_progress",
  {
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    percent: real("percent").notNull(),
    // bumped on every stored change; progress.updated carries it so read models keep the newest
    revision: integer("revision").notNull().default(0),
    // set once, when the completion rules were first met; course.completed is written with it
    completedAt: tstz("completed_at"),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] })],
);
