import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { finalGrade, type LatePolicy } from "../../../domain/grading/final-grade.js";
import type { Item, ItemKey } from "../../../domain/grading/items.js";
import { normalizeText, scoreItems } from "../../../domain/grading/score-items.js";

const choices = ["a", "b", "c", "d"].map((id) => ({ id, text: id.toUpperCase() }));
const items: Item[] = [
  { id: "q1", type: "single", points: 1, prompt: "", choices },
  { id: "q2", type: "multiple", points: 2, prompt: "", choices, partialCredit: "right-minus-wrong" },
  { id: "q3", type: "true-false", points: 1, prompt: "" },
  { id: "q4", type: "numeric", points: 1, prompt: "" },
  { id: "q5", type: "short-text", points: 1, prompt: "" },
  { id: "q6", type: "essay", points: 4, prompt: "" },
];
const keys: Record<string, ItemKey> = {
  q1: { type: "single", correct: "b" },
  q2: { type: "multiple", correct: ["a", "c"] },
  q3: { type: "true-false", correct: false },
  q4: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 },
  q5: { type: "short-text", mode: "normalized", accepted: ["Café au lait"] },
};

describe("scoring items", () => {
  it("scores objective items from the key and leaves essays to a grader", () => {
    const scores = scoreItems(items, keys, { q1: "b", q2: ["a", "d"], q3: false, q4: 3.145, q5: "  cafe AU   lait ", q6: "An essay" });
    expect(scores.map((s) => [s.itemId, s.points, s.status])).toEqual([
      ["q1", 1, "auto"],
      ["q2", 0, "auto"],
      ["q3", 1, "auto"],
      ["q4", 1, "auto"],
      ["q5", 1, "auto"],
      ["q6", null, "needs-grader"],
    ]);
  });

  it("gives partial credit for multiple choice by the item's rule", () => {
    const multi = (partialCredit: "all-or-nothing" | "per-choice" | "right-minus-wrong", picked: string[]) =>
      scoreItems([{ id: "m", type: "multiple", points: 4, prompt: "", choices, partialCredit }], { m: { type: "multiple", correct: ["a", "c"] } }, { m: picked })[0]?.points;
    expect(multi("all-or-nothing", ["a"])).toBe(0);
    expect(multi("all-or-nothing", ["c", "a"])).toBe(4);
    expect(multi("per-choice", ["a"])).toBe(3);
    expect(multi("right-minus-wrong", ["a", "b"])).toBe(0);
    expect(multi("right-minus-wrong", ["a"])).toBe(2);
  });

  it("takes a grader's score for manual items, clamped to the item's points", () => {
    const [essay] = scoreItems([items[5] as Item], {}, { q6: "text" }, { q6: { points: 9 } });
    expect(essay).toMatchObject({ points: 4, status: "graded" });
  });

  it("normalises short text answers", () => {
    expect(normalizeText("  Ünïcode   TEXT ")).toBe("unicode text");
  });

  it("never scores an item outside 0..points (property)", () => {
    fc.assert(
      fc.property(fc.subarray(["a", "b", "c", "d"]), fc.constantFrom("all-or-nothing", "per-choice", "right-minus-wrong"), fc.subarray(["a", "b", "c", "d"], { minLength: 1 }), (picked, rule, correct) => {
        const [s] = scoreItems(
          [{ id: "m", type: "multiple", points: 5, prompt: "", choices, partialCredit: rule as "per-choice" }],
          { m: { type: "multiple", correct } },
          { m: picked },
        );
        return (s?.points ?? -1) >= 0 && (s?.points ?? 99) <= 5;
      }),
    );
  });
});

describe("the final grade", () => {
  const due = new Date("2026-03-01T12:00:00Z");
  const attempt = (id: string, at: string, points: number, max = 10) => ({
    attemptId: id,
    submittedAt: new Date(at),
    items: [{ itemId: "x", points, maxPoints: max, status: "auto" as const, explanation: "" }],
  });
  const perDay: LatePolicy = { kind: "per-day", percent: 10, floorPercent: 50 };

  it("explains raw score → late deduction → attempt policy → course contribution", () => {
    const g = finalGrade({
      attempts: [attempt("a1", "2026-03-01T11:00:00Z", 6), attempt("a2", "2026-03-03T13:00:00Z", 10)],
      due,
      late: perDay,
      scoring: "highest",
      contribution: { category: "Quizzes", categoryWeightPercent: 40, itemsInCategory: 4 },
    });
    expect(g.steps.map((s) => [s.step, s.attemptId ?? null, s.value])).toEqual([
      ["raw", "a1", 60],
      ["late", "a1", 60],
      ["raw", "a2", 100],
      ["late", "a2", 70],
      ["policy", null, 70],
      ["contribution", null, 7],
    ]);
    expect(g).toMatchObject({ status: "final", percent: 70, coursePercent: 7 });
    expect(g.steps[3]?.detail).toContain("3 days late");
  });

  it("applies latest and average, no late work, and an extension", () => {
    const attempts = [attempt("a1", "2026-03-01T10:00:00Z", 9), attempt("a2", "2026-03-01T11:00:00Z", 5)];
    expect(finalGrade({ attempts, due, late: { kind: "none" }, scoring: "latest" }).percent).toBe(50);
    expect(finalGrade({ attempts, due, late: { kind: "none" }, scoring: "average" }).percent).toBe(70);
    const late = [attempt("a1", "2026-03-02T10:00:00Z", 10)];
    expect(finalGrade({ attempts: late, due, late: { kind: "no-late-work" }, scoring: "highest" }).percent).toBe(0);
    expect(finalGrade({ attempts: late, due, extendedDue: new Date("2026-03-05T00:00:00Z"), late: { kind: "no-late-work" }, scoring: "highest" }).percent).toBe(100);
  });

  it("stays pending while a counted attempt waits for a grader", () => {
    const waiting = { attemptId: "a1", submittedAt: new Date("2026-03-01T10:00:00Z"), items: [{ itemId: "e", points: null, maxPoints: 5, status: "needs-grader" as const, explanation: "" }] };
    expect(finalGrade({ attempts: [waiting], due, late: { kind: "none" }, scoring: "highest" })).toMatchObject({ status: "pending", percent: null });
  });

  it("never rewards lateness and never goes below the floor (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 24 * 30 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (points, hoursLate, percent, floor) => {
        const policy: LatePolicy = { kind: "per-hour", percent, floorPercent: floor };
        const submitted = new Date(due.getTime() + hoursLate * 3_600_000);
        const onTime = finalGrade({ attempts: [attempt("a", due.toISOString(), points)], due, late: policy, scoring: "highest" }).percent as number;
        const late = finalGrade({ attempts: [attempt("a", submitted.toISOString(), points)], due, late: policy, scoring: "highest" }).percent as number;
        return late <= onTime + 1e-9 && late >= Math.min(onTime, (onTime * floor) / 100) - 0.01;
      }),
    );
  });

  it("is deterministic: the same input gives the same grade and explanation (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 5 }), fc.constantFrom("highest", "latest", "average"), (scores, scoring) => {
        const attempts = scores.map((p, i) => attempt(`a${i}`, new Date(due.getTime() - (10 - i) * 60_000).toISOString(), p));
        const input = { attempts, due, late: perDay, scoring: scoring as "highest" };
        return JSON.stringify(finalGrade(input)) === JSON.stringify(finalGrade(input));
      }),
    );
  });
});
