import { z } from "zod";
import { rubricCriterionSchema } from "../../../domain/db/schema/assessment-json.js";
import { itemSourceSchema } from "./question-banks.js";

/** A grader's choice on one criterion: a level (levels criteria) or points (free-points criteria), with a comment. */
export const criterionChoiceSchema = z.object({
  criterionId: z.string().min(1).max(64),
  levelId: z.string().min(1).max(64).nullable().optional(),
  points: z.number().min(0).max(1000).nullable().optional(),
  comment: z.string().max(5000).default(""),
});

export const rubricChoicesSchema = z.object({
  criteria: z.array(criterionChoiceSchema).min(1).max(30).meta({ description: "Every criterion of the rubric, each once" }),
});

/** A rubric as written: 1–30 criteria, ids unique; levels from the most points to the fewest, strictly. */
export const rubricInputSchema = z.object({
  title: z.string().trim().min(1).max(200),
  criteria: z.array(rubricCriterionSchema).min(1).max(30),
});

export const rubricSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    title: z.string(),
    criteria: z.array(rubricCriterionSchema),
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "Rubric" });

export const rubricAttachmentsSchema = z
  .object({
    items: z.record(z.string().min(1).max(64), z.uuid()).meta({ description: "Essay/file item id → the course rubric scoring it" }),
    whole: z.uuid().nullable().meta({ description: "The rubric scoring every manual item without its own" }),
  })
  .meta({ id: "RubricAttachments" });

/** A rubric-scored item's explanation: each criterion with its level (or free points) and the grader's comment. */
export const rubricResultSchema = z.object({
  rubricId: z.uuid(),
  version: z.number().int(),
  title: z.string(),
  target: z.enum(["item", "whole"]),
  earned: z.number(),
  max: z.number(),
  criteria: z.array(
    z.object({
      criterionId: z.string(),
      title: z.string(),
      levelId: z.string().nullable(),
      level: z.string().nullable().meta({ description: "The chosen level's title; null for free points" }),
      points: z.number(),
      maxPoints: z.number(),
      comment: z.string(),
    }),
  ),
});

/** One item's score in a grade. */
export const itemScoreSchema = z
  .object({
    itemId: z.string(),
    points: z.number().nullable(),
    maxPoints: z.number(),
    status: z.enum(["auto", "needs-grader", "graded", "unanswered"]),
    explanation: z.string(),
    source: itemSourceSchema.optional().meta({ description: "Drawn bank items: the version scored" }),
    rubric: rubricResultSchema.optional().meta({ description: "Items scored by rubric" }),
    feedback: z.string().optional().meta({ description: "The grader's written feedback on a manual item, when there is any" }),
  })
  .meta({ id: "ItemScore" });
