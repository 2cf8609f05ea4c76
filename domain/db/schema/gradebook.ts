import { pgTable, primaryKey, real, integer, text } from "drizzle-orm/pg-core";
import { assessments } from "./assessments.js";
import { courses } from "./courses.js";
import { belongsTo, tstz } from "./columns.js";
import { users } from "./users.js";

/** A course's grade categories: their weight in the course grade and how many lowest scores to drop. */
export const gradeCategories = pgTable(
  "grade_categories",
  {
    courseId: belongsTo("course_id", () => courses.id),
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
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    userId: belongsTo("user_id", () => users.id),
    reason: text("reason").notNull().default(""),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.userId] })],
);

/** Due reminders already sent: one per learner and assessment, ever. */
export const dueReminders = pgTable(
  "due_reminders",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    userId: belongsTo("user_id", () => users.id),
    sentAt: tstz("sent_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.userId] })],
);
