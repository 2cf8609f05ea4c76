import { index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import type { RubricCriterion } from "./assessment-json.js";
import { belongsTo, timestamps } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

/**
 * A course's rubric: criteria × levels with points (or free points). A change is a new version; assessments using it
 * take a new key version, so the grades it affects are regraded by the regrade rules (dry run first).
 */
export const rubrics = pgTable(
  "rubrics",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    title: text("title").notNull(),
    criteria: jsonb("criteria").$type<RubricCriterion[]>().notNull(),
    version: integer("version").notNull().default(1),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [index("rubrics_course_id_idx").on(t.courseId)],
);
