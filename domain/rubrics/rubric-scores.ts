import type { Executor } from "../db/client.js";
import type { Answer, Item, RubricAttachments, RubricChoices } from "../db/schema/assessment-json.js";
import { scoringRubricsById } from "../grading/attached-rubrics.js";
import { rubricPoints, rubricResult } from "../grading/rubric-score.js";
import { answered } from "../grading/score-items.js";
import { fail, ok, type Result } from "../shared/result.js";
import { rubricFor } from "./attach-rubrics.js";
import { checkChoices, type CriterionChoice } from "./rubric-rules.js";

/** A manual item scored by rubric: the stored choices and the points they are worth with the rubric as it is now. */
export interface RubricScore {
  itemId: string;
  points: number;
  rubric: RubricChoices;
}

/**
 * Reads a grader's rubric choices against the assessment's attachments: per item (its own rubric, else the whole
 * one) and `whole` (every answered manual item of the presented items the whole rubric scores, unless scored per
 * item in the same request: a blank item stays unanswered, as it does for `waitingItems`). Locks the rubrics `for share`, so a change of one waits for this grading to commit.
 */
export async function rubricScores(
  db: Executor,
  attachments: RubricAttachments,
  manualItems: Item[],
  answers: Record<string, Answer>,
  perItem: { itemId: string; criteria: CriterionChoice[] }[],
  whole: CriterionChoice[] | undefined,
): Promise<Result<RubricScore[], "INVALID_RUBRIC_CHOICES">> {
  const unattached = perItem.filter((s) => !rubricFor(attachments, s.itemId)).map((s) => s.itemId);
  if (unattached.length) return fail("INVALID_RUBRIC_CHOICES", `No rubric is attached to ${unattached.join(", ")}: score them with points`, { items: unattached });
  if (whole && !attachments.whole) return fail("INVALID_RUBRIC_CHOICES", "The assessment has no whole-assessment rubric");
  const ids = [...new Set([...perItem.map((s) => rubricFor(attachments, s.itemId) as string), ...(whole && attachments.whole ? [attachments.whole] : [])])].sort();
  if (ids.length === 0) return ok([]);
  const byId = await scoringRubricsById(db, ids, { lock: true });
  const itemsById = new Map(manualItems.map((i) => [i.id, i]));
  const wanted = [
    ...perItem.map((s) => ({ itemId: s.itemId, rubricId: rubricFor(attachments, s.itemId) as string, criteria: s.criteria })),
    ...(whole && attachments.whole
      ? manualItems.filter((i) => !attachments.items[i.id] && answered(answers[i.id]) && !perItem.some((s) => s.itemId === i.id)).map((i) => ({ itemId: i.id, rubricId: attachments.whole as string, criteria: whole }))
      : []),
  ];
  const scores: RubricScore[] = [];
  for (const w of wanted) {
    const rubric = byId.get(w.rubricId);
    const item = itemsById.get(w.itemId);
    if (!rubric || !item) return fail("INVALID_RUBRIC_CHOICES", `No rubric scores ${w.itemId}`);
    const checked = checkChoices(rubric, w.criteria);
    if (!checked.ok) return fail("INVALID_RUBRIC_CHOICES", `${w.itemId}: ${checked.error.detail ?? ""}`, checked.error.extensions);
    const result = rubricResult(rubric, checked.value, attachments.items[w.itemId] ? "item" : "whole");
    scores.push({ itemId: w.itemId, points: rubricPoints(result, item.points), rubric: checked.value });
  }
  return ok(scores);
}
