import { sql, type SQL } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, primaryKey, real, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz, tsvector } from "./columns.js";
import { users } from "./users.js";

export const courseStatuses = ["draft", "published", "archived"] as const;
export type CourseStatus = (typeof courseStatuses)[number];

/** What happens when a seat frees: the first in line is enrolled at once, or offered the seat for a while. */
export const waitlistModes = ["auto", "offer"] as const;
export type WaitlistMode = (typeof waitlistModes)[number];

export const courses = pgTable(
  "courses",
  {
    id: uuid("id").primaryKey(),
    title: text("title").notNull(),
    // a short human code ("CS-101") imports name the course by; unique case-insensitively
    code: text("code"),
    description: text("description").notNull().default(""),
    language: text("language").notNull().default("en"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    status: text("status").$type<CourseStatus>().notNull().default("draft"),
    // null means unlimited
    capacity: integer("capacity"),
    // seats held by active enrollments and open offers, kept with every change under the course row lock
    seatsTaken: integer("seats_taken").notNull().default(0),
    waitlistEnabled: boolean("waitlist_enabled").notNull().default(true),
    waitlistMode: text("waitlist_mode").$type<WaitlistMode>().notNull().default("auto"),
    offerTtlHours: integer("offer_ttl_hours").notNull().default(48),
    selfEnrollment: boolean("self_enrollment").notNull().default(true),
    // null means open from publication / never closes
    enrollmentOpensAt: tstz("enrollment_opens_at"),
    enrollmentClosesAt: tstz("enrollment_closes_at"),
    sequentialProgress: boolean("sequential_progress").notNull().default(false),
    // completion: every required lesson done and every required assessment at or above this percent
    passPercent: real("pass_percent").notNull().default(60),
    // null means no deadline: after it, a course can no longer be completed
    completionDeadline: tstz("completion_deadline"),
    publishedAt: tstz("published_at"),
    archivedAt: tstz("archived_at"),
    // bumped on every change of the course itself; the ETag is made from it
    version: integer("version").notNull().default(1),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    search: tsvector("search").generatedAlwaysAs(
      (): SQL => sql`to_tsvector('simple', coalesce(${courses.title}, '') || ' ' || coalesce(${courses.description}, ''))`,
    ),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("courses_code_idx").on(sql`lower(${t.code})`),
    check("courses_code_check", sql`${t.code} ~ '^[A-Za-z0-9._-]{1,32}$'`),
    index("courses_status_id_idx").on(t.status, t.id),
    index("courses_search_idx").using("gin", t.search),
    index("courses_tags_idx").using("gin", t.tags),
  ],
);

/** A course counts as done for prerequisites when the learner completed it. */
export const coursePrerequisites = pgTable(
  "course_prerequisites",
  {
    courseId: belongsTo("course_id", () => courses.id),
    requiredCourseId: belongsTo("required_course_id", () => courses.id),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.requiredCourseId] })],
);

export const courseRoles = ["instructor", "grader"] as const;
export type CourseRole = (typeof courseRoles)[number];

/** Per-course staff: instructors and graders of one course. */
export const courseStaff = pgTable(
  "course_staff",
  {
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    role: text("role").$type<CourseRole>().notNull(),
    addedByUserId: uuid("added_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] }), index("course_staff_user_id_idx").on(t.userId)],
);
