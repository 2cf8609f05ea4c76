import { z } from "zod";
import { type BankPlace, bankPlace, itemPlace } from "../../../domain/banks/bank-access.js";
import type { QuestionBankView } from "../../../domain/banks/question-banks.js";
import type { BankItemView } from "../../../domain/banks/manage-bank-items.js";
import { itemDifficulties, tagSchema } from "../../../domain/db/schema/assessment-json.js";
import { bankItemOrigins, bankItemStatuses } from "../../../domain/db/schema/index.js";
import { itemSchema, keySchema } from "../../../domain/grading/items.js";
import { adminOnly, anyOf, type CoursesLocator, courseStaffOfAny } from "../../platform/http/access.js";
import { isoOrNull } from "./dates.js";

// Who may do what with a bank: a course's bank is its instructors' (graders read it); a shared bank (no course) is
// the administrators', and the staff (instructors and graders) of the courses it is shared with read it, as the
// courses' bank lists show them. Admins pass every policy.
// A course's bank lists its course; a shared bank none (so its managers are the administrators alone), and a
// missing bank is not found (null). Its readers are the staff of its course, or of the courses a shared bank is
// shared with (a course's bank is never shared).
export const ownCourse = (place: BankPlace | null): string[] | null => (place ? (place.courseId ? [place.courseId] : []) : null);
const readingCourses = (place: BankPlace | null): string[] | null => (place ? (place.courseId ? [place.courseId] : place.sharedWith) : null);
const bankOwnCourse: CoursesLocator = { describe: "the bank's course", resolve: async (params, db) => ownCourse(await bankPlace(db, String(params.bankId))) };
const itemOwnCourse: CoursesLocator = { describe: "the item's bank's course", resolve: async (params, db) => ownCourse(await itemPlace(db, String(params.itemId))) };
const bankCourses: CoursesLocator = {
  describe: "the bank's course, or the courses a shared bank is shared with",
  resolve: async (params, db) => readingCourses(await bankPlace(db, String(params.bankId))),
};
const itemCourses: CoursesLocator = {
  describe: "the item's bank's course, or the courses its shared bank is shared with",
  resolve: async (params, db) => readingCourses(await itemPlace(db, String(params.itemId))),
};

export const bankReaders = courseStaffOfAny(["instructor", "grader"], bankCourses);
export const bankManagers = anyOf(adminOnly, courseStaffOfAny(["instructor"], bankOwnCourse));
export const itemReaders = courseStaffOfAny(["instructor", "grader"], itemCourses);
export const itemManagers = anyOf(adminOnly, courseStaffOfAny(["instructor"], itemOwnCourse));

const iso = z.iso.datetime();

export const bankParams = z.object({ bankId: z.uuid() });

/** Every item type, in the item schema's order. */
export const itemTypes = itemSchema.options.map((o) => o.shape.type.value);

/** Where a drawn item came from: its bank, the bank item and the version presented and scored. */
export const itemSourceSchema = z.object({ bankId: z.uuid(), itemId: z.uuid(), version: z.number().int() });

export const bankSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid().nullable().meta({ description: "null: an administrator's shared bank" }),
    title: z.string(),
    description: z.string(),
    shared: z.boolean(),
    courseIds: z.array(z.uuid()).meta({ description: "The course for a course's bank; the courses a shared bank is shared with" }),
    itemCount: z.number().int(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "QuestionBank" });

export const bankBody = (b: QuestionBankView): z.input<typeof bankSchema> => ({
  id: b.id,
  courseId: b.courseId,
  title: b.title,
  description: b.description,
  shared: b.shared,
  courseIds: b.courseIds,
  itemCount: b.itemCount,
  version: b.version,
  createdAt: b.createdAt.toISOString(),
  updatedAt: b.updatedAt.toISOString(),
});

/** The bank's version and its item count (items do not bump the version, and the body shows the count). */
export const bankEtag = (b: { version: number; itemCount: number }) => `"b${b.version}-${b.itemCount}"`;
export const bankEtagPattern = /^"b(\d+)-\d+"$/;

export const bankItemSchema = z
  .object({
    id: z.uuid(),
    bankId: z.uuid(),
    type: z.string(),
    version: z.number().int(),
    status: z.enum(bankItemStatuses),
    origin: z.enum(bankItemOrigins),
    generationJobId: z.uuid().nullable(),
    tags: z.array(z.string()),
    difficulty: z.enum(itemDifficulties).nullable(),
    item: itemSchema,
    key: keySchema.nullable().optional().meta({ description: "Staff see the key (null for essay and file items)" }),
    createdAt: iso,
    updatedAt: iso,
    approvedAt: iso.nullable(),
  })
  .meta({ id: "BankItem" });

export const bankItemBody = (i: BankItemView): z.input<typeof bankItemSchema> => ({
  id: i.id,
  bankId: i.bankId,
  type: i.type,
  version: i.version,
  status: i.status,
  origin: i.origin,
  generationJobId: i.generationJobId,
  tags: i.tags,
  difficulty: i.difficulty,
  item: i.item,
  key: i.key,
  createdAt: i.createdAt.toISOString(),
  updatedAt: i.updatedAt.toISOString(),
  approvedAt: isoOrNull(i.approvedAt),
});

/** The ETag of a bank item is its current version: If-Match on PUT names the version a new one follows. */
export const itemEtag = (i: { currentVersion: number }) => `"v${i.currentVersion}"`;
export const itemEtagPattern = /^"v(\d+)"$/;

/** Tags: trimmed, unique, at most 20. */
export const tagsSchema = z
  .array(tagSchema)
  .max(20)
  .transform((tags) => [...new Set(tags)]);

// An item's `id` is optional on the way in: the bank item's id replaces it.
const incomingItem = z.preprocess((v) => (v !== null && typeof v === "object" && !("id" in v) ? { ...v, id: "new" } : v), itemSchema);

export const newBankItemBody = z.object({
  item: incomingItem,
  key: keySchema.nullable(),
  tags: tagsSchema.default([]),
  difficulty: z.enum(itemDifficulties).nullable().default(null),
  status: z.enum(["draft", "approved"]).default("approved"),
});

export const revisedItemBody = z.object({ item: incomingItem, key: keySchema.nullable() });
