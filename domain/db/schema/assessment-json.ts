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

export interface ItemScore {
  itemId: string;
  /** null while a grader has not scored a manual item. */
  points: number | null;
  maxPoints: number;
  status: "auto" | "needs-grader" | "graded" | "unanswered";
  explanation: string;
}

/** One step of a grade's explanation. */
export interface Step {
  step: "raw" | "late" | "policy" | "contribution";
  attemptId?: string;
  detail: string;
  /** The score after this step, in percent (course percent for the contribution step). */
  value: number;
}
