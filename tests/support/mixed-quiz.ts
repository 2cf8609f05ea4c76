// An objective quiz of every auto-scored item type, and a family of answer sheets that give many different
// scores: shared by the grading load test and bench/grading, which check the app against the pure functions.
import { finalGrade } from "../../domain/grading/final-grade.js";
import { type Answer, type ItemKey, itemSchema, keySchema } from "../../domain/grading/items.js";
import { scoreItems } from "../../domain/grading/score-items.js";

const choices = (ids: string[]) => ids.map((id) => ({ id, text: id }));

export const mixedQuizItems = [
  { id: "q1", type: "single", points: 2, choices: choices(["a", "b", "c", "d"]) },
  { id: "q2", type: "multiple", points: 4, partialCredit: "per-choice", choices: choices(["a", "b", "c", "d"]) },
  { id: "q3", type: "true-false", points: 1 },
  { id: "q4", type: "numeric", points: 3 },
  { id: "q5", type: "short-text", points: 2 },
  { id: "q6", type: "multiple", points: 3, partialCredit: "right-minus-wrong", choices: choices(["a", "b", "c", "d", "e"]) },
];

export const mixedQuizKeys = {
  q1: { type: "single", correct: "b" },
  q2: { type: "multiple", correct: ["a", "c"] },
  q3: { type: "true-false", correct: true },
  q4: { type: "numeric", mode: "tolerance", value: 9.81, tolerance: 0.05 },
  q5: { type: "short-text", mode: "normalized", accepted: ["Café au lait"] },
  q6: { type: "multiple", correct: ["a", "b", "d"] },
};

// The items and keys as the app stores them (defaults filled in), for the pure functions.
const parsedItems = mixedQuizItems.map((i) => itemSchema.parse(i));
const parsedKeys = Object.fromEntries(Object.entries(mixedQuizKeys).map(([k, v]) => [k, keySchema.parse(v)])) as Record<string, ItemKey>;

const subset = (ids: string[], bits: number) => ids.filter((_, b) => (bits >> b) & 1);

/** Learner n's answers: each item cycles through right, wrong, partial and missing answers at its own rate. */
export const answersOf = (n: number): Record<string, Answer> => ({
  q1: ["a", "b", "c", "d"][n % 4] as string,
  q2: subset(["a", "b", "c", "d"], (n >> 2) % 16),
  q3: n % 7 < 4,
  q4: [9.8, 9.9, 9.76, null][n % 4 === 1 ? 3 : n % 3] as number | null,
  q5: ["  cafe AU   lait ", "tea", "Café au lait", null, "café"][n % 5] as string | null,
  q6: subset(["a", "b", "c", "d", "e"], (n * 7) % 32),
});

/** The grade the pure functions give one on-time attempt with these answers. */
export const pureGrade = (answers: Record<string, Answer>, submittedAt = new Date()) =>
  finalGrade({ attempts: [{ attemptId: "a", submittedAt, items: scoreItems(parsedItems, parsedKeys, answers) }], due: null, late: { kind: "none" }, scoring: "highest" });
