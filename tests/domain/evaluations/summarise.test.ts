import { describe, expect, it } from "vitest";
import type { EvaluationQuestion } from "../../../domain/db/schema/index.js";
import { evaluationResultsCsv } from "../../../domain/evaluations/results.js";
import { medianOf, shuffled, summarise } from "../../../domain/evaluations/summarise.js";

describe("evaluation results", () => {
  it("computes the median of a distribution, averaging the middle two of an even count", () => {
    expect(medianOf([0, 0, 0, 0, 0])).toBeNull();
    expect(medianOf([1, 0, 0, 0, 0])).toBe(1);
    expect(medianOf([1, 1, 1, 1, 1])).toBe(3);
    expect(medianOf([1, 0, 0, 0, 1])).toBe(3);
    expect(medianOf([2, 0, 0, 1, 1])).toBe(2.5);
    expect(medianOf([0, 3, 0, 0, 1])).toBe(2);
  });

  it("summarises likert (mean, median, distribution), choice (counts per option) and text (all answers)", () => {
    const questions: EvaluationQuestion[] = [
      { id: "overall", kind: "likert", prompt: "Overall", required: true },
      { id: "pace", kind: "likert", prompt: "Pace", options: ["slow", "right", "fast"], required: false },
      { id: "format", kind: "choice", prompt: "Format", options: ["online", "in person"], required: true },
      { id: "comments", kind: "text", prompt: "More", required: false },
    ];
    const counts = new Map([
      ["overall", new Map<string | number, number>([[5, 2], [4, 2], [1, 1]])],
      ["format", new Map<string | number, number>([["online", 3]])],
    ]);
    const [overall, pace, format, comments] = summarise(questions, counts, new Map([["comments", ["a", "b", "c"]]]), 0);
    expect(overall).toMatchObject({ kind: "likert", n: 5, mean: 3.8, median: 4, distribution: [{ point: 1, count: 1 }, { point: 2, count: 0 }, { point: 3, count: 0 }, { point: 4, count: 2 }, { point: 5, count: 2 }] });
    expect(pace).toMatchObject({ kind: "likert", n: 0, mean: null, median: null, labels: ["slow", "right", "fast"] });
    expect(pace?.kind === "likert" && !pace.withheld && pace.distribution).toHaveLength(3);
    expect(format).toMatchObject({ kind: "choice", n: 3, counts: [{ option: "online", count: 3 }, { option: "in person", count: 0 }] });
    expect(comments?.kind === "text" && !comments.withheld && [...comments.answers].sort()).toEqual(["a", "b", "c"]);
  });

  it("withholds a question fewer than the minimum answered, however many answered the evaluation", () => {
    const questions: EvaluationQuestion[] = [
      { id: "overall", kind: "likert", prompt: "Overall", required: true },
      { id: "extra", kind: "likert", prompt: "Optional", required: false },
      { id: "format", kind: "choice", prompt: "Format", options: ["online", "in person"], required: false },
      { id: "comments", kind: "text", prompt: "More", required: false },
    ];
    // Five answered; one of them the optional questions too.
    const counts = new Map([
      ["overall", new Map<string | number, number>([[4, 5]])],
      ["extra", new Map<string | number, number>([[1, 1]])],
      ["format", new Map<string | number, number>([["in person", 1]])],
    ]);
    const summaries = summarise(questions, counts, new Map([["comments", ["only I wrote this"]]]), 5);
    expect(summaries[0]).toMatchObject({ id: "overall", n: 5, withheld: false, mean: 4 });
    for (const s of summaries.slice(1)) expect(s).toEqual({ id: s.id, kind: s.kind, prompt: s.prompt, n: 1, withheld: true });
    const csv = evaluationResultsCsv({ evaluation: {} as never, courseTitle: "C", questions: summaries });
    expect(csv).not.toContain("only I wrote this");
    expect(csv).not.toContain("in person");
    expect(csv).toContain("extra,likert,Optional,1,,,(withheld: too few answers),");
  });

  it("shuffles into every order over many tries (no fixed order to read arrival from)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(shuffled([1, 2, 3]).join(""));
    expect(seen.size).toBe(6);
  });
});
