import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, primaryKey, real, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { Answer, AttemptDraw, Item, ItemSource, ItemKey, ItemScore, LatePolicy, Pool, PresentedItem, RubricAttachments, RubricChoices, ScoringPolicy, Step } from "./assessment-json.js";
import { courses } from "./courses.js";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { questionBanks } from "./question-banks.js";
import { users } from "./users.js";

export const assessmentKinds = ["quiz", "assignment"] as const;
export type AssessmentKind = (typeof assessmentKinds)[number];

export const assessments = pgTable(
  "assessments",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    title: text("title").notNull(),
    kind: text("kind").$type<AssessmentKind>().notNull(),
    // the items as learners see them; keys live in assessment_keys, versioned
    items: jsonb("items").$type<Item[]>().notNull(),
    keyVersion: integer("key_version").notNull().default(1),
    // drawn per attempt after the fixed items (question banks); shuffling is per attempt, seeded and stored
    pools: jsonb("pools").$type<Pool[]>().notNull().default([]),
    shuffleItems: boolean("shuffle_items").notNull().default(false),
    shuffleChoices: boolean("shuffle_choices").notNull().default(false),
    // rubrics scoring essay/file items (by item id) or every manual item (whole); a rubric change regrades as a key change
    rubrics: jsonb("rubrics").$type<RubricAttachments>().notNull().default({ items: {}, whole: null }),
    // null means unlimited
    attemptsAllowed: integer("attempts_allowed"),
    scoringPolicy: text("scoring_policy").$type<ScoringPolicy>().notNull().default("highest"),
    timeLimitMinutes: integer("time_limit_minutes"),
    availableFrom: tstz("available_from"),
    dueAt: tstz("due_at"),
    // hard close: no attempt starts or runs past it
    lockAt: tstz("lock_at"),
    latePolicy: jsonb("late_policy").$type<LatePolicy>().notNull().default({ kind: "none" }),
    releaseMode: text("release_mode").$type<"immediate" | "manual">().notNull().default("immediate"),
    releasedAt: tstz("released_at"),
    category: text("category").notNull().default("Assessments"),
    // counts toward course completion (with the course's pass percent)
    requiredForCompletion: boolean("required_for_completion").notNull().default(false),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [index("assessments_course_id_idx").on(t.courseId)],
);

/** Every answer key an assessment ever had: grades name the version they were computed with. */
export const assessmentKeys = pgTable(
  "assessment_keys",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    version: integer("version").notNull(),
    keys: jsonb("keys").$type<Record<string, ItemKey>>().notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.version] })],
);

export const assessmentExtensions = pgTable(
  "assessment_extensions",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    userId: belongsTo("user_id", () => users.id),
    dueAt: tstz("due_at"),
    lockAt: tstz("lock_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.userId] })],
);

/** An attempt; once submitted it is the submission (same id). */
export const attempts = pgTable(
  "attempts",
  {
    id: uuid("id").primaryKey(),
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    courseId: uuid("course_id").notNull(),
    userId: belongsTo("user_id", () => users.id),
    number: integer("number").notNull(),
    status: text("status").$type<"in-progress" | "submitted">().notNull().default("in-progress"),
    startedAt: tstz("started_at").notNull(),
    // fixed by the server at start: min(start + time limit, lock); null when neither applies
    deadlineAt: tstz("deadline_at"),
    answers: jsonb("answers").$type<Record<string, Answer>>().notNull().default({}),
    // the items as this attempt presents them (drawn, shuffled), fixed at its start; null: the assessment's items as they are
    items: jsonb("items").$type<PresentedItem[]>(),
    draw: jsonb("draw").$type<AttemptDraw>(),
    // seconds the learner's client reported spending on each item (summed over saves; item analysis' mean time)
    itemSeconds: jsonb("item_seconds").$type<Record<string, number>>().notNull().default({}),
    submittedAt: tstz("submitted_at"),
    submittedBy: text("submitted_by").$type<"learner" | "deadline">(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("attempts_assessment_id_user_id_number_idx").on(t.assessmentId, t.userId, t.number),
    index("attempts_deadline_at_idx").on(t.deadlineAt).where(sql`${t.status} = 'in-progress'`),
    index("attempts_user_id_idx").on(t.userId),
  ],
);

export const manualScores = pgTable(
  "manual_scores",
  {
    submissionId: belongsTo("submission_id", () => attempts.id),
    itemId: text("item_id").notNull(),
    points: real("points").notNull(),
    feedback: text("feedback").notNull().default(""),
    // set when scored by rubric: the grader's choices; points are then derived from the rubric as it is at grading
    rubric: jsonb("rubric").$type<RubricChoices>(),
    graderUserId: uuid("grader_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.submissionId, t.itemId] })],
);

/** Versioned grades: a regrade adds a version, it never overwrites one. */
export const grades = pgTable(
  "grades",
  {
    id: uuid("id").primaryKey(),
    submissionId: belongsTo("submission_id", () => attempts.id),
    assessmentId: uuid("assessment_id").notNull(),
    courseId: uuid("course_id").notNull(),
    userId: uuid("user_id").notNull(),
    version: integer("version").notNull(),
    keyVersion: integer("key_version").notNull(),
    percent: real("percent"),
    itemScores: jsonb("item_scores").$type<ItemScore[]>().notNull(),
    explanation: jsonb("explanation").$type<Step[]>().notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("grades_submission_id_version_idx").on(t.submissionId, t.version), index("grades_course_id_user_id_idx").on(t.courseId, t.userId)],
);

/**
 * The banks an assessment's attempts drew from (written at each drawing start, `on conflict do nothing`): a bank
 * named here keeps its item versions, which those attempts' regrades and item analysis read, so it cannot be deleted
 * (the foreign key refuses even a racing delete).
 */
export const assessmentDrawBanks = pgTable(
  "assessment_draw_banks",
  {
    assessmentId: belongsTo("assessment_id", () => assessments.id),
    bankId: uuid("bank_id")
      .notNull()
      .references(() => questionBanks.id, { onDelete: "no action" }),
  },
  (t) => [primaryKey({ columns: [t.assessmentId, t.bankId] }), index("assessment_draw_banks_bank_id_idx").on(t.bankId)],
);

/**
 * A pool's candidate list as a draw read it (bank item ids ascending, each at its version), stored once however many
 * attempts drew from the same list; attempts' draws name it by `hash` (sha256 of the list's JSON).
 */
export const drawCandidateSets = pgTable("draw_candidate_sets", {
  hash: text("hash").primaryKey(),
  candidates: jsonb("candidates").$type<ItemSource[]>().notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
});
