import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

export const evaluationQuestionKinds = ["likert", "choice", "text"] as const;
export type EvaluationQuestionKind = (typeof evaluationQuestionKinds)[number];
/** One question of an evaluation template (validated by the template's zod schema before it is stored). */
export interface EvaluationQuestion {
  /** Stable within the template: answers and results name questions by it, across terms. */
  id: string;
  kind: EvaluationQuestionKind;
  prompt: string;
  /** choice: the options; likert: the scale's labels from lowest to highest (5 by default). */
  options?: string[];
  required: boolean;
}

/** An evaluation form administrators define once and open for many courses (so results compare across terms). */
export const evaluationTemplates = pgTable("evaluation_templates", {
  id: uuid("id").primaryKey(),
  title: text("title").notNull(),
  description: text("description").notNull().default(""),
  questions: jsonb("questions").$type<EvaluationQuestion[]>().notNull(),
  createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
  archivedAt: tstz("archived_at"),
  version: integer("version").notNull().default(1),
  ...timestamps,
});

export const courseEvaluationStatuses = ["scheduled", "open", "closed"] as const;
export type CourseEvaluationStatus = (typeof courseEvaluationStatuses)[number];

/**
 * A template opened for one course over [opens_at, closes_at): the evaluations timer opens it (telling the
 * learners), reminds those who have not answered once, and closes it. The questions are copied when it is made.
 */
export const courseEvaluations = pgTable(
  "course_evaluations",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    templateId: uuid("template_id")
      .notNull()
      .references(() => evaluationTemplates.id, { onDelete: "restrict" }),
    // a label to compare by ("2026 autumn"); the course's own title is read from the course
    term: text("term").notNull(),
    questions: jsonb("questions").$type<EvaluationQuestion[]>().notNull(),
    opensAt: tstz("opens_at").notNull(),
    closesAt: tstz("closes_at").notNull(),
    status: text("status").$type<CourseEvaluationStatus>().notNull().default("scheduled"),
    openedAt: tstz("opened_at"),
    remindedAt: tstz("reminded_at"),
    closedAt: tstz("closed_at"),
    // how many answered (receipts), kept with each response
    responseCount: integer("response_count").notNull().default(0),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("course_evaluations_course_idx").on(t.courseId, t.opensAt),
    index("course_evaluations_template_idx").on(t.templateId),
    index("course_evaluations_due_idx").on(t.status, t.opensAt, t.closesAt).where(sql`${t.status} <> 'closed'`),
    check("course_evaluations_window_check", sql`${t.closesAt} > ${t.opensAt}`),
  ],
);

/**
 * "This learner has answered": a keyed hash of (evaluation, learner), never the learner's id, and nothing in
 * common with the response row (no id, no time). Proves one answer per learner without linking it to them.
 */
export const evaluationReceipts = pgTable(
  "evaluation_receipts",
  {
    evaluationId: belongsTo("evaluation_id", () => courseEvaluations.id),
    receipt: text("receipt").notNull(),
  },
  (t) => [primaryKey({ columns: [t.evaluationId, t.receipt] })],
);

/** One anonymous response: answers by question id; a random (not time-ordered) id, no user, no timestamps. */
export const evaluationResponses = pgTable(
  "evaluation_responses",
  {
    id: uuid("id").primaryKey(),
    evaluationId: belongsTo("evaluation_id", () => courseEvaluations.id),
    answers: jsonb("answers").$type<Record<string, string | number | null>>().notNull(),
  },
  (t) => [index("evaluation_responses_evaluation_idx").on(t.evaluationId)],
);
