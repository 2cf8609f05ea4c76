import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import type { Item, ItemDifficulty, ItemKey } from "./assessment-json.js";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";

/**
 * A question bank: owned by a course (its instructors manage it), or, with no course, made by an administrator and
 * shared with the courses named in question_bank_courses (their instructors read it and draw from it).
 */
export const questionBanks = pgTable(
  "question_banks",
  {
    id: uuid("id").primaryKey(),
    courseId: uuid("course_id").references(() => courses.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [index("question_banks_course_id_idx").on(t.courseId)],
);

/** The courses an administrator's shared bank is shared with. */
export const questionBankCourses = pgTable(
  "question_bank_courses",
  {
    bankId: belongsTo("bank_id", () => questionBanks.id),
    courseId: belongsTo("course_id", () => courses.id),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.bankId, t.courseId] }), index("question_bank_courses_course_id_idx").on(t.courseId)],
);

// draft: not drawn nor used until a person approves it (generated items start here); approved: drawable;
// retired: kept for the attempts that saw it, never drawn again.
export const bankItemStatuses = ["draft", "approved", "retired"] as const;
export type BankItemStatus = (typeof bankItemStatuses)[number];
export const bankItemOrigins = ["authored", "imported", "generated"] as const;
export type BankItemOrigin = (typeof bankItemOrigins)[number];

/**
 * An item of a bank. Its content and key live in versions (a change of prompt, choices, points or key is a new
 * version; attempts keep the version they saw); tags, difficulty and status are the item's, unversioned.
 */
export const bankItems = pgTable(
  "bank_items",
  {
    id: uuid("id").primaryKey(),
    bankId: belongsTo("bank_id", () => questionBanks.id),
    // denormalised from the current version: pools and lists filter on it
    type: text("type").$type<Item["type"]>().notNull(),
    currentVersion: integer("current_version").notNull().default(1),
    status: text("status").$type<BankItemStatus>().notNull().default("approved"),
    origin: text("origin").$type<BankItemOrigin>().notNull().default("authored"),
    // the generation job that wrote it (origin generated)
    generationJobId: uuid("generation_job_id"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    difficulty: text("difficulty").$type<ItemDifficulty>(),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    approvedByUserId: uuid("approved_by_user_id").references(() => users.id, { onDelete: "set null" }),
    approvedAt: tstz("approved_at"),
    ...timestamps,
  },
  (t) => [
    index("bank_items_bank_id_status_idx").on(t.bankId, t.status, t.id),
    index("bank_items_tags_idx").using("gin", t.tags),
    index("bank_items_generation_job_id_idx").on(t.generationJobId),
  ],
);

/** Every version of a bank item; never updated. `item.id` is the bank item's id. */
export const bankItemVersions = pgTable(
  "bank_item_versions",
  {
    itemId: belongsTo("item_id", () => bankItems.id),
    version: integer("version").notNull(),
    item: jsonb("item").$type<Item>().notNull(),
    // null for essay and file items (a grader scores them)
    key: jsonb("key").$type<ItemKey>(),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.version] })],
);

export const generationJobStatuses = ["awaiting-upload", "queued", "running", "succeeded", "failed"] as const;
export type GenerationJobStatus = (typeof generationJobStatuses)[number];

export type GenerationSource =
  | { kind: "lesson"; lessonId: string }
  // removedAt: the blob was deleted by housekeeping after the retention (the job row stays)
  | { kind: "document"; blobName: string; fileName: string; contentType: string; declaredSize: number; removedAt?: string };

export interface GenerationProgress {
  requested: number;
  generated: number;
  stored: number;
  discarded: number;
}

/**
 * A request to a model for draft items (the question-generation queue). One job per request (its Idempotency-Key);
 * the worker claims it by a conditional update, so a redelivered message generates nothing twice.
 */
export const generationJobs = pgTable(
  "generation_jobs",
  {
    id: uuid("id").primaryKey(),
    bankId: belongsTo("bank_id", () => questionBanks.id),
    // the course the items are for (access, and the lesson's course)
    courseId: belongsTo("course_id", () => courses.id),
    requestedByUserId: uuid("requested_by_user_id").references(() => users.id, { onDelete: "set null" }),
    source: jsonb("source").$type<GenerationSource>().notNull(),
    itemTypes: text("item_types").array().$type<Item["type"][]>().notNull(),
    count: integer("count").notNull(),
    status: text("status").$type<GenerationJobStatus>().notNull().default("queued"),
    progress: jsonb("progress").$type<GenerationProgress>().notNull(),
    // items the model gave that failed validation: never stored as items
    discarded: jsonb("discarded").$type<{ index: number; reason: string }[]>().notNull().default([]),
    error: text("error"),
    // model calls made (each retry after a rate limit counts)
    calls: integer("calls").notNull().default(0),
    // deliveries that ended in a fault (thrown): the job fails after MAX_GENERATION_FAULTS, so it is not retried forever
    faults: integer("faults").notNull().default(0),
    // after a rate limit: not before this time (the message is rescheduled for it)
    notBefore: tstz("not_before"),
    startedAt: tstz("started_at"),
    finishedAt: tstz("finished_at"),
    ...timestamps,
  },
  (t) => [index("generation_jobs_bank_id_idx").on(t.bankId, t.createdAt), index("generation_jobs_queued_idx").on(t.createdAt).where(sql`${t.status} in ('queued', 'running')`)],
);
