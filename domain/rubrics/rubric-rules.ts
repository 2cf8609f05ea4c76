import type { RubricChoices, RubricCriterion } from "../db/schema/assessment-json.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { ScoringRubric } from "../grading/rubric-score.js";

export type RubricRuleCode = "INVALID_RUBRIC" | "RUBRIC_LEVELS_UNORDERED";

/**
 * A rubric's criteria hold together: criterion ids unique, level ids unique within their criterion, and levels
 * listed from the most points to the fewest, strictly (graders read them top-down as "better to worse"; two levels
 * worth the same would make the choice meaningless to the score). Unordered levels name their criteria.
 */
export function rubricProblems(criteria: RubricCriterion[]): Result<null, RubricRuleCode> {
  const repeated = (ids: string[]) => [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  const criterionIds = repeated(criteria.map((c) => c.id));
  if (criterionIds.length) return fail("INVALID_RUBRIC", `Criterion ids repeat: ${criterionIds.join(", ")}`, { criteria: criterionIds });
  const levelRepeats = criteria.flatMap((c) => (c.kind === "levels" ? repeated(c.levels.map((l) => l.id)).map((levelId) => ({ criterionId: c.id, levelId })) : []));
  if (levelRepeats.length) return fail("INVALID_RUBRIC", `Level ids repeat within a criterion: ${levelRepeats.map((r) => `${r.criterionId}/${r.levelId}`).join(", ")}`, { levels: levelRepeats });
  const unordered = criteria.filter((c) => c.kind === "levels" && c.levels.some((l, i) => i > 0 && l.points >= (c.levels[i - 1]?.points ?? Infinity))).map((c) => c.id);
  if (unordered.length) return fail("RUBRIC_LEVELS_UNORDERED", `List each criterion's levels from the most points to the fewest, without repeating points: ${unordered.join(", ")}`, { criteria: unordered });
  return ok(null);
}

/** A grader's choice of one criterion as the API takes it: a level for a levels criterion, points for a free one. */
export interface CriterionChoice {
  criterionId: string;
  levelId?: string | null | undefined;
  points?: number | null | undefined;
  comment?: string | undefined;
}

/**
 * Checks a grader's choices against the rubric: every criterion chosen exactly once, nothing else; a levels
 * criterion names one of its levels (and no points); a free-points criterion takes points from 0 to its maximum
 * (and no level). Answers the choices as stored (manual_scores.rubric) or what is wrong, one line each.
 */
export function checkChoices(rubric: ScoringRubric, choices: CriterionChoice[]): Result<RubricChoices, "INVALID_RUBRIC_CHOICES"> {
  const problems: string[] = [];
  const byId = new Map(rubric.criteria.map((c) => [c.id, c]));
  const seen = new Set<string>();
  for (const choice of choices) {
    const c = byId.get(choice.criterionId);
    if (!c) problems.push(`${choice.criterionId}: not a criterion of rubric "${rubric.title}"`);
    else if (seen.has(c.id)) problems.push(`${c.id}: chosen more than once`);
    else if (c.kind === "levels") {
      if (choice.points !== undefined && choice.points !== null) problems.push(`${c.id}: choose a level, not points`);
      else if (!choice.levelId) problems.push(`${c.id}: choose one of its levels`);
      else if (!c.levels.some((l) => l.id === choice.levelId)) problems.push(`${c.id}: has no level ${choice.levelId}`);
    } else if (choice.levelId) problems.push(`${c.id}: takes free points, not a level`);
    else if (choice.points === undefined || choice.points === null) problems.push(`${c.id}: give its points`);
    else if (!Number.isFinite(choice.points) || choice.points < 0 || choice.points > c.maxPoints) problems.push(`${c.id}: points must be from 0 to ${c.maxPoints}`);
    if (c) seen.add(c.id);
  }
  for (const c of rubric.criteria) if (!seen.has(c.id)) problems.push(`${c.id}: not chosen`);
  if (problems.length) return fail("INVALID_RUBRIC_CHOICES", problems.join("; "), { problems });
  return ok({
    rubricId: rubric.id,
    criteria: choices.map((c) => ({ criterionId: c.criterionId, levelId: c.levelId ?? null, points: c.points ?? null, comment: c.comment ?? "" })),
  });
}

/** A stored choice a proposed rubric version would invalidate, and why. */
export interface InvalidatedChoice {
  criterionId: string;
  levelId: string | null;
  /** `removed`: the criterion or level is gone (or the criterion's kind changed); `over-maximum`: free points above
   * the new maximum; `added`: a new criterion the scored submissions never chose. */
  reason: "removed" | "over-maximum" | "added";
}

/**
 * What a proposed version does to stored choices: a rubric in use may change titles, descriptions, level points
 * and free maxima (upwards of every stored choice) and add levels, nothing that makes a stored choice mean something
 * else. Dropping a chosen criterion or level, lowering a free maximum below a stored choice (it would be capped
 * quietly) or adding a criterion (every scored submission would get 0 on it) are listed, sorted.
 */
export function invalidatedChoices(criteria: RubricCriterion[], stored: RubricChoices[]): InvalidatedChoice[] {
  const byId = new Map(criteria.map((c) => [c.id, c]));
  const out = new Map<string, InvalidatedChoice>();
  const add = (x: InvalidatedChoice) => out.set(`${x.criterionId}\u0000${x.levelId ?? ""}\u0000${x.reason}`, x);
  for (const choice of stored.flatMap((s) => s.criteria)) {
    const c = byId.get(choice.criterionId);
    const gone = !c || (choice.levelId !== null ? c.kind !== "levels" || !c.levels.some((l) => l.id === choice.levelId) : c.kind !== "free-points");
    if (gone) add({ criterionId: choice.criterionId, levelId: choice.levelId, reason: "removed" });
    else if (c.kind === "free-points" && (choice.points ?? 0) > c.maxPoints) add({ criterionId: c.id, levelId: null, reason: "over-maximum" });
  }
  for (const s of stored) for (const c of criteria) if (!s.criteria.some((x) => x.criterionId === c.id)) add({ criterionId: c.id, levelId: null, reason: "added" });
  return [...out.values()].sort((a, b) => a.criterionId.localeCompare(b.criterionId) || (a.levelId ?? "").localeCompare(b.levelId ?? "") || a.reason.localeCompare(b.reason));
}
