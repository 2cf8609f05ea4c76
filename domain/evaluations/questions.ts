import { z } from "zod";
import type { EvaluationQuestion } from "../db/schema/evaluations.js";
import { fail, ok, type Result } from "../shared/result.js";

export const MAX_QUESTIONS = 50;
export const MAX_TEXT_ANSWER = 5_000;
export const DEFAULT_LIKERT_POINTS = 5;

// Plain text only, and no NUL (PostgreSQL text refuses it).
const noNul = (s: string) => !s.includes("\u0000");
const label = z.string().trim().min(1).max(200).refine(noNul, "must not contain NUL characters");
const unique = (values: readonly string[]) => new Set(values).size === values.length;
const questionId = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "a slug: lower-case letters and digits, single hyphens between").max(60);

/** One question as an administrator writes it; its `id` names it in answers and in results across terms. */
export const questionSchema = z.discriminatedUnion("kind", [
  z.object({
    id: questionId,
    kind: z.literal("likert"),
    prompt: label.max(1000),
    options: z
      .array(label)
      .min(2)
      .max(11)
      .refine(unique, "labels must be unique")
      .optional()
      .meta({ description: "The scale's labels, lowest first (its length is the number of points); 5 points without labels by default" }),
    required: z.boolean().default(true),
  }),
  z.object({
    id: questionId,
    kind: z.literal("choice"),
    prompt: label.max(1000),
    options: z.array(label).min(2).max(20).refine(unique, "options must be unique"),
    required: z.boolean().default(true),
  }),
  z.object({
    id: questionId,
    kind: z.literal("text"),
    prompt: label.max(1000),
    required: z.boolean().default(false),
  }),
]);

export const questionsSchema = z
  .array(questionSchema)
  .min(1)
  .max(MAX_QUESTIONS)
  .refine((qs) => unique(qs.map((q) => q.id)), "question ids must be unique");

/** The points of a likert question's scale (1..n). */
export const likertPoints = (q: EvaluationQuestion): number => (q.kind === "likert" ? (q.options?.length ?? DEFAULT_LIKERT_POINTS) : 0);

export type Answers = Record<string, string | number | null>;
export interface AnswerIssue {
  questionId: string;
  message: string;
}

/**
 * Checks answers against the evaluation's questions: every required question answered, likert 1..n, a choice one of
 * the options (by its text), text at most MAX_TEXT_ANSWER characters; no unknown ids. Returns what is stored:
 * unanswered optional questions as null, text trimmed.
 */
export function checkAnswers(questions: readonly EvaluationQuestion[], answers: Record<string, unknown>): Result<Answers, "EVALUATION_ANSWERS_INVALID"> {
  const issues: AnswerIssue[] = [];
  const known = new Set(questions.map((q) => q.id));
  for (const id of Object.keys(answers)) if (!known.has(id)) issues.push({ questionId: id.slice(0, 60), message: "no such question" });
  const stored: Answers = {};
  for (const q of questions) {
    const raw = answers[q.id];
    const blank = raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");
    if (blank) {
      if (q.required) issues.push({ questionId: q.id, message: "required" });
      stored[q.id] = null;
      continue;
    }
    if (q.kind === "likert") {
      const n = likertPoints(q);
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 1 || raw > n) issues.push({ questionId: q.id, message: `a whole number from 1 to ${n}` });
      else stored[q.id] = raw;
    } else if (q.kind === "choice") {
      if (typeof raw !== "string" || !(q.options ?? []).includes(raw)) issues.push({ questionId: q.id, message: "one of the question's options" });
      else stored[q.id] = raw;
    } else if (typeof raw !== "string") {
      issues.push({ questionId: q.id, message: "text" });
    } else if (raw.length > MAX_TEXT_ANSWER) {
      issues.push({ questionId: q.id, message: `at most ${MAX_TEXT_ANSWER} characters` });
    } else {
      stored[q.id] = raw.trim();
    }
  }
  if (issues.length > 0) return fail("EVALUATION_ANSWERS_INVALID", "Some answers do not fit their questions.", { issues: issues.slice(0, 100) });
  return ok(stored);
}
