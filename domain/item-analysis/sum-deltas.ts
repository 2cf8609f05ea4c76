import type { Contribution } from "./contributions.js";
import type { ItemSums, TotalSums } from "./statistics.js";

// How a batch of grades changes the running sums: each replaced contribution is taken out (sign −1) and the new
// one put in (+1), folded per key, so each table gets one multi-row upsert. Rows come sorted by key: concurrent
// batches then lock the rows they share in one order and cannot deadlock.

/** The sums (`ItemSums`; `sumMax`: one version can be drawn at different points, a pool's points changed, or two pools). */
export interface ItemStatsDelta extends ItemSums {
  assessmentId: string;
  itemId: string;
  itemVersion: number;
  itemType: string;
  maxPoints: number;
}

export interface ChoiceDelta {
  assessmentId: string;
  itemId: string;
  itemVersion: number;
  choiceId: string;
  picks: number;
}

export type AssessmentDelta = TotalSums & { assessmentId: string };

export interface Change {
  assessmentId: string;
  /** The contribution counted so far (null: none yet). */
  removed: Contribution | null;
  added: Contribution;
}

export interface SumDeltas {
  items: ItemStatsDelta[];
  choices: ChoiceDelta[];
  assessments: AssessmentDelta[];
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function sumDeltas(changes: Change[]): SumDeltas {
  const items = new Map<string, ItemStatsDelta>();
  const choices = new Map<string, ChoiceDelta>();
  const assessments = new Map<string, AssessmentDelta>();
  const fold = (assessmentId: string, c: Contribution, sign: 1 | -1) => {
    const a = assessments.get(assessmentId) ?? { assessmentId, n: 0, sumTotal: 0, sumTotalSq: 0 };
    a.n += sign;
    a.sumTotal += sign * c.total;
    a.sumTotalSq += sign * c.total * c.total;
    assessments.set(assessmentId, a);
    for (const i of c.items) {
      const key = JSON.stringify([assessmentId, i.itemId, i.itemVersion]);
      const d = items.get(key) ?? { assessmentId, itemId: i.itemId, itemVersion: i.itemVersion, itemType: i.itemType, maxPoints: i.maxPoints, n: 0, sumMax: 0, sumScore: 0, sumScoreSq: 0, sumRest: 0, sumRestSq: 0, sumScoreRest: 0, timeN: 0, timeSum: 0 };
      // The newest grade's item type and points describe the item version from now on.
      if (sign === 1) Object.assign(d, { itemType: i.itemType, maxPoints: i.maxPoints });
      d.n += sign;
      d.sumMax += sign * i.maxPoints;
      d.sumScore += sign * i.score;
      d.sumScoreSq += sign * i.score * i.score;
      d.sumRest += sign * i.rest;
      d.sumRestSq += sign * i.rest * i.rest;
      d.sumScoreRest += sign * i.score * i.rest;
      if (i.seconds !== null) {
        d.timeN += sign;
        d.timeSum += sign * i.seconds;
      }
      items.set(key, d);
      for (const choiceId of i.choices) {
        const ck = JSON.stringify([assessmentId, i.itemId, i.itemVersion, choiceId]);
        const cd = choices.get(ck) ?? { assessmentId, itemId: i.itemId, itemVersion: i.itemVersion, choiceId, picks: 0 };
        cd.picks += sign;
        choices.set(ck, cd);
      }
    }
  };
  for (const change of changes) {
    if (change.removed) fold(change.assessmentId, change.removed, -1);
    fold(change.assessmentId, change.added, 1);
  }
  return {
    items: [...items.values()].sort((a, b) => compare(a.assessmentId, b.assessmentId) || compare(a.itemId, b.itemId) || a.itemVersion - b.itemVersion),
    choices: [...choices.values()]
      .filter((c) => c.picks !== 0)
      .sort((a, b) => compare(a.assessmentId, b.assessmentId) || compare(a.itemId, b.itemId) || a.itemVersion - b.itemVersion || compare(a.choiceId, b.choiceId)),
    assessments: [...assessments.values()].sort((a, b) => compare(a.assessmentId, b.assessmentId)),
  };
}
