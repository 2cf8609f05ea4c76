import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { courses } from "./courses.js";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { users } from "./users.js";

export const modules = pgTable(
  "modules",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    title: text("title").notNull(),
    position: integer("position").notNull(),
    // hidden content stays (learners may have work in it) but is not shown to learners
    hiddenAt: tstz("hidden_at"),
    ...timestamps,
  },
  (t) => [index("modules_course_id_position_idx").on(t.courseId, t.position)],
);

export const lessonKinds = ["text", "file", "link", "assessment"] as const;
export type LessonKind = (typeof lessonKinds)[number];
export const fileStatuses = ["awaiting-upload", "ready"] as const;
export type FileStatus = (typeof fileStatuses)[number];

export const lessons = pgTable(
  "lessons",
  {
    id: uuid("id").primaryKey(),
    moduleId: belongsTo("module_id", () => modules.id),
    // denormalised from the module: access checks resolve the course in one lookup
    courseId: belongsTo("course_id", () => courses.id),
    title: text("title").notNull(),
    kind: text("kind").$type<LessonKind>().notNull(),
    position: integer("position").notNull(),
    body: text("body"),
    url: text("url"),
    // the assessment a lesson of kind `assessment` points at (assessments arrive with the grading work)
    assessmentId: uuid("assessment_id"),
    fileBlobName: text("file_blob_name"),
    fileName: text("file_name"),
    fileContentType: text("file_content_type"),
    fileSizeBytes: bigint("file_size_bytes", { mode: "number" }),
    fileStatus: text("file_status").$type<FileStatus>(),
    unlockAt: tstz("unlock_at"),
    required: boolean("required").notNull().default(true),
    hiddenAt: tstz("hidden_at"),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [index("lessons_module_id_position_idx").on(t.moduleId, t.position), index("lessons_course_id_idx").on(t.courseId)],
);

/** A learner finished a lesson: learner work that keeps the lesson from being deleted. */
export const lessonCompletions = pgTable(
  "lesson_completions",
  {
    lessonId: uuid("lesson_id")
      .notNull()
      .references(() => lessons.id, { onDelete: "restrict" }),
    userId: belongsTo("user_id", () => users.id),
    courseId: uuid("course_id").notNull(),
    completedAt: tstz("completed_at").notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.lessonId, t.userId] }), index("lesson_completions_user_id_course_id_idx").on(t.userId, t.courseId)],
);
