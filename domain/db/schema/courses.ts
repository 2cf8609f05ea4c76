import { index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

export const courseStatuses = ["draft", "published", "archived"] as const;
export type CourseStatus = (typeof courseStatuses)[number];

export const courses = pgTable(
  "courses",
  {
    id: uuid("id").primaryKey(),
    title: text("title").notNull(),
    status: text("status").$type<CourseStatus>().notNull().default("draft"),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [index("courses_status_idx").on(t.status)],
);

export const courseRoles = ["instructor", "grader"] as const;
export type CourseRole = (typeof courseRoles)[number];

/** Per-course staff: instructors and graders of one course. */
export const courseStaff = pgTable(
  "course_staff",
  {
    courseId: uuid("course_id")
      .notNull()
      .references(() => courses.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<CourseRole>().notNull(),
    addedByUserId: uuid("added_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] }), index("course_staff_user_id_idx").on(t.userId)],
);
