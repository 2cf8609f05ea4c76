import type { RubricChoices, RubricCriterion, RubricResult } from "../db/schema/assessment-json.js";

/** A rubric as scoring reads it (the row's current version). */
export interface ScoringRubric {
  id: string;
  version: number;
  title: string;
  criteria: RubricCriterion[];
}

/** Points to three decimals: item scores and rubric results alike. */
export const roundPoints = (n: number) => Math.round(n * 1000) / 1000;

export const criterionMax = (c: RubricCriterion): number => (c.kind === "levels" ? Math.max(...c.levels.map((l) => l.points)) : c.maxPoints);

/**
 * A grader's choices read against the rubric as it is now: each criterion's level (its points) or free points
 * (capped at the criterion's maximum), with the grader's comment. A choice naming a level the rubric no longer has
 * scores 0 for that criterion, shown without a level; criteria the grader did not choose score 0. None of these
 * happens through the API (rubric changes refuse to drop chosen levels, lower a maximum below a choice or add a
 * criterion once scores use the rubric): this is the last line of defence, not the rule.
 */
export function rubricResult(rubric: ScoringRubric, choices: RubricChoices, target: "item" | "whole"): RubricResult {
  const byCriterion = new Map(choices.criteria.map((c) => [c.criterionId, c]));
  const criteria = rubric.criteria.map((c) => {
    const chosen = byCriterion.get(c.id);
    const maxPoints = criterionMax(c);
    if (c.kind === "levels") {
      const level = chosen?.levelId ? c.levels.find((l) => l.id === chosen.levelId) : undefined;
      return { criterionId: c.id, title: c.title, levelId: level?.id ?? null, level: level?.title ?? null, points: level?.points ?? 0, maxPoints, comment: chosen?.comment ?? "" };
    }
    const points = Math.min(Math.max(0, chosen?.points ?? 0), maxPoints);
    return { criterionId: c.id, title: c.title, levelId: null, level: null, points, maxPoints, comment: chosen?.comment ?? "" };
  });
  return {
    rubricId: rubric.id,
    version: rubric.version,
    title: rubric.title,
    target,
    earned: roundPoints(criteria.reduce((s, c) => s + c.points, 0)),
    max: roundPoints(criteria.reduce((s, c) => s + c.maxPoints, 0)),
    criteria,
  };
}

/** An item's points from a rubric result: the item's points scaled by the share of the rubric's points earned. */
export const rubricPoints = (result: RubricResult, itemPoints: number): number => (result.max === 0 ? 0 : roundPoints((itemPoints * result.earned) / result.max));

/** One line per criterion for the item's explanation: "Thesis: Proficient (3 of 4) — clear claim". */
export function rubricExplanation(result: RubricResult, itemPoints: number): string {
  const lines = result.criteria.map((c) => `${c.title}: ${c.level ?? "points"} (${c.points} of ${c.maxPoints})${c.comment ? ` — ${c.comment}` : ""}`);
  return `scored by rubric "${result.title}"${result.target === "whole" ? " (whole assessment)" : ""}: ${result.earned} of ${result.max} rubric points → ${rubricPoints(result, itemPoints)} of ${itemPoints}; ${lines.join("; ")}`;
}
