import { describe, expect, it } from "vitest";
import type { RubricCriterion } from "../../../domain/db/schema/assessment-json.js";
import { checkChoices, invalidatedChoices, rubricProblems } from "../../../domain/rubrics/rubric-rules.js";

const level = (id: string, points: number) => ({ id, title: id, description: "", points });
const thesis: RubricCriterion = { kind: "levels", id: "thesis", title: "Thesis", description: "", levels: [level("strong", 4), level("fair", 2), level("weak", 0)] };
const style: RubricCriterion = { kind: "free-points", id: "style", title: "Style", description: "", maxPoints: 3 };
const rubric = { id: "r1", version: 1, title: "Essay", criteria: [thesis, style] };

describe("a rubric's rules", () => {
  it("accepts levels from the most points to the fewest and a free-points criterion", () => {
    expect(rubricProblems([thesis, style])).toEqual({ ok: true, value: null });
  });

  it("refuses levels out of order or repeating points, naming the criteria", () => {
    const rising: RubricCriterion = { ...thesis, id: "rising", levels: [level("a", 1), level("b", 3)] };
    const tied: RubricCriterion = { ...thesis, id: "tied", levels: [level("a", 3), level("b", 3)] };
    expect(rubricProblems([thesis, rising, tied, style])).toMatchObject({ ok: false, error: { code: "RUBRIC_LEVELS_UNORDERED", extensions: { criteria: ["rising", "tied"] } } });
  });

  it("refuses repeated criterion ids and repeated level ids within a criterion", () => {
    expect(rubricProblems([thesis, { ...style, id: "thesis" }])).toMatchObject({ ok: false, error: { code: "INVALID_RUBRIC", extensions: { criteria: ["thesis"] } } });
    const twice: RubricCriterion = { ...thesis, levels: [level("a", 3), level("a", 1)] };
    expect(rubricProblems([twice])).toMatchObject({ ok: false, error: { code: "INVALID_RUBRIC", extensions: { levels: [{ criterionId: "thesis", levelId: "a" }] } } });
  });
});

describe("a grader's choices", () => {
  it("stores every criterion once: a level, or free points within the maximum", () => {
    expect(checkChoices(rubric, [{ criterionId: "thesis", levelId: "fair", comment: "ok" }, { criterionId: "style", points: 2.5 }])).toEqual({
      ok: true,
      value: { rubricId: "r1", criteria: [{ criterionId: "thesis", levelId: "fair", points: null, comment: "ok" }, { criterionId: "style", levelId: null, points: 2.5, comment: "" }] },
    });
  });

  it.each([
    ["an unknown level", [{ criterionId: "thesis", levelId: "superb" }, { criterionId: "style", points: 1 }], "thesis: has no level superb"],
    ["free points over the maximum", [{ criterionId: "thesis", levelId: "weak" }, { criterionId: "style", points: 4 }], "style: points must be from 0 to 3"],
    ["a criterion missing", [{ criterionId: "thesis", levelId: "weak" }], "style: not chosen"],
    ["a criterion twice", [{ criterionId: "thesis", levelId: "weak" }, { criterionId: "thesis", levelId: "fair" }, { criterionId: "style", points: 1 }], "thesis: chosen more than once"],
    ["an unknown criterion", [{ criterionId: "thesis", levelId: "weak" }, { criterionId: "style", points: 1 }, { criterionId: "voice", points: 1 }], "voice: not a criterion"],
    ["points on a levels criterion", [{ criterionId: "thesis", points: 4 }, { criterionId: "style", points: 1 }], "thesis: choose a level, not points"],
    ["a level on a free criterion", [{ criterionId: "thesis", levelId: "weak" }, { criterionId: "style", levelId: "weak" }], "style: takes free points, not a level"],
  ])("refuses %s", (_what, choices, problem) => {
    const checked = checkChoices(rubric, choices);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.error.code).toBe("INVALID_RUBRIC_CHOICES");
      expect(checked.error.detail).toContain(problem);
    }
  });
});

describe("what a change invalidates", () => {
  const stored = [{ rubricId: "r1", criteria: [{ criterionId: "thesis", levelId: "fair", points: null, comment: "" }, { criterionId: "style", levelId: null, points: 1, comment: "" }] }];

  it("finds nothing when every chosen criterion and level stays (points may change)", () => {
    expect(invalidatedChoices([{ ...thesis, levels: [level("strong", 5), level("fair", 3), level("weak", 0)] }, style], stored)).toEqual([]);
  });

  it("lists chosen levels and criteria the new version drops, or whose kind changed", () => {
    const withoutFair: RubricCriterion = { ...thesis, levels: [level("strong", 4), level("weak", 0)] };
    expect(invalidatedChoices([withoutFair], stored)).toEqual([
      { criterionId: "style", levelId: null, reason: "removed" },
      { criterionId: "thesis", levelId: "fair", reason: "removed" },
    ]);
    expect(invalidatedChoices([{ ...style, id: "thesis" }, style], stored)).toEqual([{ criterionId: "thesis", levelId: "fair", reason: "removed" }]);
  });

  it("lists a free maximum lowered below a stored choice and an added criterion; raising the maximum is fine", () => {
    expect(invalidatedChoices([thesis, { ...style, maxPoints: 0.5 }], stored)).toEqual([{ criterionId: "style", levelId: null, reason: "over-maximum" }]);
    expect(invalidatedChoices([thesis, { ...style, maxPoints: 1 }], stored)).toEqual([]);
    expect(invalidatedChoices([thesis, { ...style, maxPoints: 9 }], stored)).toEqual([]);
    const voice: RubricCriterion = { ...style, id: "voice", title: "Voice" };
    expect(invalidatedChoices([thesis, style, voice], stored)).toEqual([{ criterionId: "voice", levelId: null, reason: "added" }]);
  });
});
