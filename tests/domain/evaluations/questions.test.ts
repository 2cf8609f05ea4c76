import { describe, expect, it } from "vitest";
import type { EvaluationQuestion } from "../../../domain/db/schema/index.js";
import { checkAnswers, questionsSchema } from "../../../domain/evaluations/questions.js";

const questions: EvaluationQuestion[] = [
  { id: "overall", kind: "likert", prompt: "Overall", required: true },
  { id: "pace", kind: "likert", prompt: "Pace", options: ["slow", "right", "fast"], required: false },
  { id: "format", kind: "choice", prompt: "Format", options: ["online", "in person"], required: true },
  { id: "comments", kind: "text", prompt: "Anything else?", required: false },
];

describe("evaluation questions", () => {
  it("accepts likert, choice and text questions and fills in required defaults", () => {
    const parsed = questionsSchema.parse([
      { id: "overall", kind: "likert", prompt: "Overall" },
      { id: "format", kind: "choice", prompt: "Format", options: ["a", "b"] },
      { id: "comments", kind: "text", prompt: "More" },
    ]);
    expect(parsed.map((q) => q.required)).toEqual([true, true, false]);
  });

  it("refuses duplicate ids, duplicate options, too few options, non-slug ids and more than 50 questions", () => {
    const q = (id: string) => ({ id, kind: "text", prompt: "x" });
    expect(questionsSchema.safeParse([q("a"), q("a")]).success).toBe(false);
    expect(questionsSchema.safeParse([{ id: "c", kind: "choice", prompt: "x", options: ["a", "a"] }]).success).toBe(false);
    expect(questionsSchema.safeParse([{ id: "c", kind: "choice", prompt: "x", options: ["a"] }]).success).toBe(false);
    expect(questionsSchema.safeParse([{ id: "c", kind: "choice", prompt: "x", options: Array.from({ length: 21 }, (_, i) => `o${i}`) }]).success).toBe(false);
    expect(questionsSchema.safeParse([q("Not A Slug")]).success).toBe(false);
    expect(questionsSchema.safeParse([{ id: "n", kind: "text", prompt: "a\u0000b" }]).success).toBe(false);
    expect(questionsSchema.safeParse(Array.from({ length: 51 }, (_, i) => q(`q${i}`))).success).toBe(false);
    expect(questionsSchema.safeParse(Array.from({ length: 50 }, (_, i) => q(`q${i}`))).success).toBe(true);
  });
});

describe("checkAnswers", () => {
  it("stores valid answers, unanswered optional ones as null, text trimmed", () => {
    const r = checkAnswers(questions, { overall: 4, format: "in person", comments: "  good  " });
    expect(r).toEqual({ ok: true, value: { overall: 4, pace: null, format: "in person", comments: "good" } });
  });

  it("names every problem: missing required, out-of-scale likert, unknown option, unknown id, long text", () => {
    const r = checkAnswers(questions, { overall: 6, pace: 0, format: "by post", extra: "x", comments: "x".repeat(5001) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("EVALUATION_ANSWERS_INVALID");
    const issues = r.error.extensions?.issues as { questionId: string }[];
    expect(issues.map((i) => i.questionId).sort()).toEqual(["comments", "extra", "format", "overall", "pace"]);
    expect(checkAnswers(questions, { format: "online" }).ok).toBe(false);
    expect(checkAnswers(questions, { overall: 2.5, format: "online" }).ok).toBe(false);
    expect(checkAnswers(questions, { overall: "3", format: "online" }).ok).toBe(false);
    expect(checkAnswers(questions, { overall: 3, pace: 3, format: "online", comments: "x".repeat(5000) }).ok).toBe(true);
  });
});
