import { pgTable, primaryKey, real, integer, text, uuid } from "drizzle-orm/pg-core";
import { assessments } from "./assessments.js";
import { courses } from "./courses.js";
import { tstz } from "./columns.js";
import { users } from "./users.js";

/** A course's grade categories: their weight in the course grade and how many lowest scores to drop. */
export const gradeCategories = pgTable(
  "grade_categories",
  {
    courseId: uuid("course_id")
      .notNull()
      .references(() => courses.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    weightPercent: real("weight_percent").notNull(),
    dropLowest: integer("drop_lowest").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.name] })],
);

/** A learner excused from an assessment: it counts neither for nor against them. */
export const gradeExcusals = pgTable(
  "grade_excusals",
  {
    assessmentId: uuid("assessment_id")
      .notNull()
      .references(() => assessments.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    reason: text("reason").notNull().default(""),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.userId] })],
);

/** Due reminders already sent: one per learner and assessment, ever. */
export const dueReminders = pgTable(
  "due_reminders",
  {
    assessmentId: uuid("assessment_id")
      .notNull()
      .references(() => assessments.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sentAt: tstz("sent_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.userId] })],
);
