import type { Answer, ItemScore, PresentedItem } from "../db/schema/assessment-json.js";
import type { ItemContribution } from "../db/schema/item-analysis.js";

/** What one graded submission adds to the sums: its raw total and, per presented item, score, rest, picks and time. */
export interface Contribution {
  total: number;
  items: ItemContribution[];
}

/** The choice ids an answer picked: single/multiple as given, true-false as the choices "true" and "false". */
function picked(item: PresentedItem, answer: Answer | undefined): string[] {
  if (item.type === "true-false") return typeof answer === "boolean" ? [String(answer)] : [];
  if (item.type !== "single" && item.type !== "multiple") return [];
  const known = new Set(item.choices.map((c) => c.id));
  const ids = typeof answer === "string" ? [answer] : Array.isArray(answer) ? answer : [];
  return [...new Set(ids)].filter((id) => known.has(id));
}

/**
 * A grade's contribution: scores are the grade's raw item points (before any late penalty), the rest score the
 * submission's raw points without the item's. A final grade has points for every item (none waits for a grader);
 * an item the grade does not list counts 0 of its points. Drawn items are counted under their bank version,
 * fixed items as version 1.
 */
export function contributionOf(input: { items: PresentedItem[]; itemScores: ItemScore[]; answers: Record<string, Answer>; itemSeconds: Record<string, number> }): Contribution {
  const scores = new Map(input.itemScores.map((s) => [s.itemId, s]));
  const scored = input.items.map((item) => {
    const s = scores.get(item.id);
    return { item, score: s?.points ?? 0, maxPoints: s?.maxPoints ?? item.points };
  });
  const total = scored.reduce((sum, s) => sum + s.score, 0);
  const items = scored.map(({ item, score, maxPoints }): ItemContribution => {
    const seconds = input.itemSeconds[item.id];
    return {
      itemId: item.source?.itemId ?? item.id,
      itemVersion: item.source?.version ?? 1,
      itemType: item.type,
      maxPoints,
      score,
      rest: total - score,
      seconds: typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0 ? seconds : null,
      choices: picked(item, input.answers[item.id]),
    };
  });
  return { total, items };
}
