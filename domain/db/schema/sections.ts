import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

/** A part of a course's learners (a class, a cohort); a learner's enrollment is in at most one section. */
export const sections = pgTable(
  "sections",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    name: text("name").notNull(),
    // null means unlimited; enforced under the section row lock when learners are placed
    capacity: integer("capacity"),
    // the section's timetable, for later use
    scheduleUrl: text("schedule_url"),
    // bumped on every change; the ETag is made from it
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    // names compare case-insensitively, so an import's "a" and "A" are one section
    uniqueIndex("sections_course_id_name_idx").on(t.courseId, sql`lower(${t.name})`),
    check("sections_capacity_check", sql`${t.capacity} is null or ${t.capacity} > 0`),
  ],
);

/** A free grouping of a course's learners (project teams); a learner may be in several. */
export const groups = pgTable(
  "groups",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    name: text("name").notNull(),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [uniqueIndex("groups_course_id_name_idx").on(t.courseId, sql`lower(${t.name})`)],
);

export const groupMembers = pgTable(
  "group_members",
  {
    groupId: belongsTo("group_id", () => groups.id),
    userId: belongsTo("user_id", () => users.id),
    addedAt: tstz("added_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user_id_idx").on(t.userId)],
);

/** A staff member with rows here sees only these sections of the course; none means the whole course. */
export const courseStaffSections = pgTable(
  "course_staff_sections",
  {
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    sectionId: belongsTo("section_id", () => sections.id),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.courseId, t.userId, t.sectionId] }),
    index("course_staff_sections_section_id_idx").on(t.sectionId),
    index("course_staff_sections_user_id_idx").on(t.userId),
  ],
);
