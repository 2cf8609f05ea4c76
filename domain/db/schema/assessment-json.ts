import { z } from "zod";

// The shapes the assessment tables store in jsonb (and enum-like text) columns. They live beside the schema so
// that the schema depends on no feature module; grading and assessment compute with them.

const itemBase = { id: z.string().min(1).max(64), points: z.number().positive().max(1000), prompt: z.string().max(20_000).default("") };
const choice = z.object({ id: z.string().min(1).max(64), text: z.string().max(2000) });

/** An assessment item as learners see it (no keys). */
export const itemSchema = z.discriminatedUnion("type", [
  z.object({ ...itemBase, type: z.literal("single"), choices: z.array(choice).min(2).max(26) }),
  z.object({
    ...itemBase,
    type: z.literal("multiple"),
    choices: z.array(choice).min(2).max(26),
    // all-or-nothing; per-choice: each choice judged right or wrong; right-minus-wrong: wrong picks cancel right ones
    partialCredit: z.enum(["all-or-nothing", "per-choice", "right-minus-wrong"]).default("all-or-nothing"),
  }),
  z.object({ ...itemBase, type: z.literal("true-false") }),
  z.object({ ...itemBase, type: z.literal("numeric") }),
  z.object({ ...itemBase, type: z.literal("short-text") }),
  z.object({ ...itemBase, type: z.literal("essay") }),
  z.object({ ...itemBase, type: z.literal("file") }),
]);
export type Item = z.infer<typeof itemSchema>;

/** The answer key of one item; essays and files have none (a grader scores them). */
export const keySchema = z.union([
  z.object({ type: z.literal("single"), correct: z.string() }),
  z.object({ type: z.literal("multiple"), correct: z.array(z.string()).min(1) }),
  z.object({ type: z.literal("true-false"), correct: z.boolean() }),
  z.object({ type: z.literal("numeric"), mode: z.literal("exact"), value: z.number() }),
  z.object({ type: z.literal("numeric"), mode: z.literal("range"), min: z.number(), max: z.number() }),
  z.object({ type: z.literal("numeric"), mode: z.literal("tolerance"), value: z.number(), tolerance: z.number().nonnegative() }),
  z.object({ type: z.literal("short-text"), mode: z.literal("normalized"), accepted: z.array(z.string().min(1)).min(1) }),
  z.object({ type: z.literal("short-text"), mode: z.literal("pattern"), pattern: z.string().min(1).max(500) }),
]);
export type ItemKey = z.infer<typeof keySchema>;

export type Answer = string | string[] | boolean | number | null;

export type LatePolicy =
  | { kind: "none" }
  | { kind: "no-late-work" }
  /** `percent` off per started hour or day late; never below `floorPercent` of the raw score. */
  | { kind: "per-hour" | "per-day"; percent: number; floorPercent: number };

export type ScoringPolicy = "highest" | "latest" | "average";

/** Where a drawn item came from: a bank item's version (immutable), so regrading reads what the learner saw. */
export interface ItemSource {
  bankId: string;
  itemId: string;
  version: number;
}

/** An item as one attempt presents it: fixed and drawn items in the attempt's order, choices in its order. */
export type PresentedItem = Item & { source?: ItemSource };

export const itemDifficulties = ["easy", "medium", "hard"] as const;
export type ItemDifficulty = (typeof itemDifficulties)[number];

export const tagSchema = z.string().trim().min(1).max(60);

/**
 * A pool: `count` items drawn per attempt (without repeats across the assessment's pools) from the bank's approved
 * items that carry every tag in `tags` (and the difficulty, when named). `points` overrides the drawn items' own.
 */
export const poolSchema = z.object({
  id: z.string().min(1).max(64),
  bankId: z.uuid(),
  count: z.number().int().min(1).max(200),
  tags: z.array(tagSchema).max(20).default([]),
  difficulty: z.enum(itemDifficulties).optional(),
  points: z.number().positive().max(1000).optional(),
});
export type Pool = z.infer<typeof poolSchema>;

/**
 * How an attempt's items were chosen, stored at its start with everything needed to draw it again without reading
 * the assessment (which a PATCH may change): the seed (uint32), the shuffle flags, the fixed items' ids, per pool its
 * definition, its candidate list (by `candidateSet`, the hash of a `draw_candidate_sets` row: ids ascending, as the
 * draw read them) and what it drew, and the presented order. Drawing again from the seed, the candidates, the fixed
 * items (as the attempt presents them) and these settings gives the same items in the same order
 * (domain/assessment/draw.ts).
 */
export interface AttemptDraw {
  seed: number;
  shuffleItems: boolean;
  shuffleChoices: boolean;
  fixedItemIds: string[];
  pools: { poolId: string; pool: Pool; candidateSet: string; drawn: ItemSource[] }[];
  order: string[];
  /** Per single/multiple item, its choice ids in the presented order (when choices are shuffled). */
  choiceOrder: Record<string, string[]>;
}

/** A stored draw as staff read it: each pool's candidates resolved from its candidate set. */
export interface AttemptDrawView extends Omit<AttemptDraw, "pools"> {
  pools: (AttemptDraw["pools"][number] & { candidates: ItemSource[] })[];
}

/** A rubric level: its points; a criterion's levels are listed from the most points to the fewest, strictly. */
export const rubricLevelSchema = z.object({
  id: z.string().min(1).max(64),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(""),
  points: z.number().min(0).max(1000),
});

/** A rubric criterion: a choice of levels, or free points up to a maximum (the grader's judgement, with a comment). */
export const rubricCriterionSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("levels"),
    id: z.string().min(1).max(64),
    title: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(""),
    levels: z.array(rubricLevelSchema).min(2).max(10),
  }),
  z.object({
    kind: z.literal("free-points"),
    id: z.string().min(1).max(64),
    title: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(""),
    maxPoints: z.number().positive().max(1000),
  }),
]);
export type RubricCriterion = z.infer<typeof rubricCriterionSchema>;

/** Which rubric scores what: per essay/file item id, and `whole` for every manual item of the assessment at once. */
export interface RubricAttachments {
  items: Record<string, string>;
  whole: string | null;
}

/** A grader's rubric choices for one item (or the whole assessment), as stored in manual_scores.rubric. */
export interface RubricChoices {
  rubricId: string;
  criteria: { criterionId: string; levelId: string | null; points: number | null; comment: string }[];
}

/** A rubric-scored item's share of the explanation: each criterion with its level (or free points) and comment. */
export interface RubricResult {
  rubricId: string;
  version: number;
  title: string;
  target: "item" | "whole";
  earned: number;
  max: number;
  criteria: { criterionId: string; title: string; levelId: string | null; level: string | null; points: number; maxPoints: number; comment: string }[];
}

export interface ItemScore {
  itemId: string;
  /** null while a grader has not scored a manual item. */
  points: number | null;
  maxPoints: number;
  status: "auto" | "needs-grader" | "graded" | "unanswered";
  explanation: string;
  /** Set for drawn bank items: which version was scored. */
  source?: ItemSource;
  /** Set for items scored by rubric. */
  rubric?: RubricResult;
  /** The grader's written feedback on a manual item, when there is any. */
  feedback?: string;
}

/** One step of a grade's explanation. */
export interface Step {
  step: "raw" | "late" | "policy" | "contribution";
  attemptId?: string;
  detail: string;
  /** The score after this step, in percent (course percent for the contribution step). */
  value: number;
}
