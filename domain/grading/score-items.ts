import type { Answer, Item, ItemKey, ItemScore, PresentedItem, RubricChoices } from "../db/schema/assessment-json.js";
import { isManual } from "./items.js";
import { roundPoints as round, rubricExplanation, rubricPoints, rubricResult, type ScoringRubric } from "./rubric-score.js";

export type { ItemScore } from "../db/schema/assessment-json.js";

/** Trims, lower-cases, folds accents and collapses inner whitespace: "  Café  au Lait " ≡ "cafe au lait". */
export const normalizeText = (s: string): string =>
  s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();

/** A learner answered the item (a manual item left blank is unanswered, not waiting for a grader). */
export const answered = (answer: Answer | null | undefined): boolean => answer !== undefined && answer !== null && answer !== "";

function scoreMultiple(item: Extract<Item, { type: "multiple" }>, correct: string[], picked: string[]): { fraction: number; why: string } {
  const right = new Set(correct);
  const chosen = new Set(picked);
  const hits = [...chosen].filter((c) => right.has(c)).length;
  const wrongPicks = [...chosen].filter((c) => !right.has(c)).length;
  if (item.partialCredit === "all-or-nothing") {
    const exact = hits === right.size && wrongPicks === 0;
    return { fraction: exact ? 1 : 0, why: exact ? "every correct choice and nothing else" : "not exactly the correct choices (all or nothing)" };
  }
  if (item.partialCredit === "per-choice") {
    const judged = item.choices.filter((c) => right.has(c.id) === chosen.has(c.id)).length;
    return { fraction: judged / item.choices.length, why: `${judged} of ${item.choices.length} choices judged right` };
  }
  const fraction = Math.max(0, (hits - wrongPicks) / right.size);
  return { fraction, why: `${hits} right minus ${wrongPicks} wrong, of ${right.size} correct choices` };
}

/** A grader's score of a manual item: points, or rubric choices whose points the rubric decides at grading time. */
export interface ManualScore {
  points: number;
  feedback?: string;
  rubric?: RubricChoices | null;
}

/** The rubrics attached to the assessment (as they are now): per item id, and the whole-assessment one. */
export interface ScoringRubrics {
  items: Record<string, ScoringRubric>;
  whole: ScoringRubric | null;
}

/** No rubric attached. */
export const noRubrics: ScoringRubrics = { items: {}, whole: null };

/**
 * Scores the objective items from the key; manual items wait for a grader (or take the grader's score, or the
 * rubric's share when the grader scored by rubric). Drawn items carry their source into the score.
 */
export function scoreItems(
  items: (Item | PresentedItem)[],
  keys: Record<string, ItemKey>,
  answers: Record<string, Answer>,
  manual: Record<string, ManualScore> = {},
  rubrics: ScoringRubrics = noRubrics,
): ItemScore[] {
  return items.map((item) => {
    const answer = answers[item.id] ?? null;
    const source = "source" in item && item.source ? { source: item.source } : {};
    const base = { itemId: item.id, maxPoints: item.points, ...source };
    if (isManual(item)) {
      const m = manual[item.id];
      // The grader's written feedback travels with the score (only when there is some), so the explanation shows it.
      const graded = m?.feedback ? { ...base, feedback: m.feedback } : base;
      const rubric = m?.rubric ? (rubrics.items[item.id] ?? rubrics.whole) : null;
      // The whole-assessment rubric scores answered items only (a score stored before that rule does not count).
      if (m && rubric && m.rubric && (rubrics.items[item.id] || answered(answer))) {
        const result = rubricResult(rubric, m.rubric, rubrics.items[item.id] ? "item" : "whole");
        return { ...graded, points: rubricPoints(result, item.points), status: "graded", explanation: rubricExplanation(result, item.points), rubric: result };
      }
      if (m && !m.rubric) return { ...graded, points: Math.min(Math.max(0, m.points), item.points), status: "graded", explanation: `scored by a grader: ${m.points} of ${item.points}` };
      if (!answered(answer)) return { ...base, points: 0, status: "unanswered", explanation: "no answer" };
      // A rubric score whose rubric is no longer attached keeps the points stored with it.
      if (m) return { ...graded, points: Math.min(Math.max(0, m.points), item.points), status: "graded", explanation: `scored by a grader: ${m.points} of ${item.points}` };
      return { ...base, points: null, status: "needs-grader", explanation: "waits for a grader" };
    }
    if (answer === null) return { ...base, points: 0, status: "unanswered", explanation: "no answer" };
    const key = keys[item.id];
    if (!key || key.type !== item.type) throw new Error(`item ${item.id} has no ${item.type} key`);
    let fraction = 0;
    let why = "";
    switch (key.type) {
      case "single":
        fraction = answer === key.correct ? 1 : 0;
        why = fraction ? "the correct choice" : "not the correct choice";
        break;
      case "multiple": {
        const r = scoreMultiple(item as Extract<Item, { type: "multiple" }>, key.correct, Array.isArray(answer) ? answer.map(String) : [String(answer)]);
        fraction = r.fraction;
        why = r.why;
        break;
      }
      case "true-false":
        fraction = answer === key.correct ? 1 : 0;
        why = fraction ? "correct" : "incorrect";
        break;
      case "numeric": {
        const n = typeof answer === "number" ? answer : Number(answer);
        const ok =
          Number.isFinite(n) &&
          (key.mode === "exact" ? n === key.value : key.mode === "range" ? n >= key.min && n <= key.max : Math.abs(n - key.value) <= key.tolerance);
        fraction = ok ? 1 : 0;
        why = `${ok ? "within" : "outside"} ${key.mode === "exact" ? `exactly ${key.value}` : key.mode === "range" ? `${key.min}..${key.max}` : `${key.value} ± ${key.tolerance}`}`;
        break;
      }
      case "short-text": {
        const text = String(answer);
        const ok = key.mode === "normalized" ? key.accepted.some((a) => normalizeText(a) === normalizeText(text)) : safePattern(key.pattern).test(text.trim());
        fraction = ok ? 1 : 0;
        why = ok ? "an accepted answer" : "not an accepted answer";
        break;
      }
    }
    return { ...base, points: round(fraction * item.points), status: "auto", explanation: why };
  });
}

/** Patterns match the whole answer, case-insensitively. */
function safePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, "iu");
}
