import { describe, expect, it } from "vitest";
import { cronbachAlpha, discrimination, facility, type ItemSums, itemFlags, varianceOf } from "../../../domain/item-analysis/statistics.js";

// The worked example: K. L. Wuensch, "The Kuder-Richardson 20" (East Carolina University, StatHelp,
// https://core.ecu.edu/wuenschk/StatHelp/KR20.txt): ten students A–J, a ten-item quiz scored 0/1. The page lists
// the matrix, each item's p (.7 .7 .6 .7 .6 .8 .7 .7 .5 .6), each item's variance pq (.21 .21 .24 .21 .24 .16
// .21 .21 .25 .24, Σ = 2.18) and the total scores' variance 5.84, so KR-20 = alpha = 10/9 · (1 − 2.18/5.84) =
// 0.6963. The corrected item-total (point-biserial against the rest score) correlations below were computed by
// hand from the matrix with Pearson's formula, e.g. item 1: Σ(x−x̄)(y−ȳ) = 6.7, Σ(x−x̄)² = 2.1, Σ(y−ȳ)² = 42.9
// (rest scores 7 6 6 2 2 8 7 8 7 6, mean 5.9), r = 6.7/√(2.1·42.9) = 0.7059; item 3 is uncorrelated with its rest (0), and
// items 7 and 9 run against the rest of the quiz (negative: the ones a reviewer must see).
const matrix = [
  [1, 1, 1, 1, 1, 1, 0, 1, 1, 0], // A  8
  [1, 0, 1, 1, 0, 1, 1, 1, 0, 1], // B  7
  [1, 1, 1, 1, 0, 1, 1, 0, 0, 1], // C  7
  [0, 0, 1, 0, 0, 0, 1, 0, 0, 0], // D  2
  [0, 0, 0, 0, 0, 1, 0, 0, 1, 0], // E  2
  [1, 1, 1, 0, 1, 1, 1, 1, 1, 1], // F  9
  [1, 1, 0, 1, 1, 1, 0, 1, 1, 1], // G  8
  [1, 1, 1, 1, 1, 1, 1, 1, 0, 1], // H  9
  [0, 1, 0, 1, 1, 1, 1, 1, 0, 1], // I  7
  [1, 1, 0, 1, 1, 0, 1, 1, 1, 0], // J  7
];
const publishedP = [0.7, 0.7, 0.6, 0.7, 0.6, 0.8, 0.7, 0.7, 0.5, 0.6];
const publishedVariance = [0.21, 0.21, 0.24, 0.21, 0.24, 0.16, 0.21, 0.21, 0.25, 0.24];
const byHandCorrected = [0.7059, 0.7059, 0, 0.4736, 0.5839, 0.2861, -0.0274, 0.7059, -0.1236, 0.4759];

/** The sums the item-analysis subscription would hold after these ten grades. */
function sumsOf(j: number): ItemSums {
  const s: ItemSums = { n: 0, sumMax: 0, sumScore: 0, sumScoreSq: 0, sumRest: 0, sumRestSq: 0, sumScoreRest: 0, timeN: 0, timeSum: 0 };
  for (const row of matrix) {
    const score = row[j] as number;
    const rest = row.reduce((a, b) => a + b, 0) - score;
    Object.assign(s, { n: s.n + 1, sumMax: s.sumMax + 1, sumScore: s.sumScore + score, sumScoreSq: s.sumScoreSq + score ** 2, sumRest: s.sumRest + rest, sumRestSq: s.sumRestSq + rest ** 2, sumScoreRest: s.sumScoreRest + score * rest });
  }
  return s;
}
const totals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
const totalSums = { n: totals.length, sumTotal: totals.reduce((a, b) => a + b, 0), sumTotalSq: totals.reduce((a, b) => a + b * b, 0) };

describe("classical test theory figures, on a published worked example (Wuensch, KR-20)", () => {
  it("gives each item's facility (p) and variance (pq) as published", () => {
    publishedP.forEach((p, j) => expect(facility(sumsOf(j))).toBeCloseTo(p, 10));
    publishedVariance.forEach((v, j) => {
      const s = sumsOf(j);
      expect(varianceOf(s.n, s.sumScore, s.sumScoreSq)).toBeCloseTo(v, 10);
    });
    expect(varianceOf(totalSums.n, totalSums.sumTotal, totalSums.sumTotalSq)).toBeCloseTo(5.84, 10);
  });

  it("gives each item's point-biserial correlation with the rest score as computed by hand", () => {
    byHandCorrected.forEach((r, j) => expect(discrimination(sumsOf(j))).toBeCloseTo(r, 4));
  });

  it("gives Cronbach's alpha (= KR-20 for 0/1 items) 10/9 · (1 − 2.18/5.84)", () => {
    const alpha = cronbachAlpha(matrix[0]!.map((_, j) => sumsOf(j)), totalSums, false);
    expect(alpha.alpha).toBeCloseTo((10 / 9) * (1 - 2.18 / 5.84), 10);
    expect(alpha.alpha).toBeCloseTo(0.6963, 4);
  });

  it("flags negative discrimination, too hard, too easy, an unpicked distractor, and few responses as a note", () => {
    expect(itemFlags({ n: 10, facility: 0.7, discrimination: -0.0274 })).toEqual(["negative-discrimination"]);
    expect(itemFlags({ n: 10, facility: 0.7, discrimination: 0.7 })).toEqual([]);
    expect(itemFlags({ n: 20, facility: 0.15, discrimination: 0.3 })).toEqual(["too-hard"]);
    expect(itemFlags({ n: 20, facility: 1, discrimination: null })).toEqual(["too-easy"]);
    expect(itemFlags({ n: 20, facility: 0.95, discrimination: 0.2 })).toEqual([]);
    const choices = [
      { correct: true, picks: 12 },
      { correct: false, picks: 3 },
      { correct: false, picks: 0 },
    ];
    expect(itemFlags({ n: 15, facility: 0.8, discrimination: 0.4, choices })).toEqual(["unpicked-distractor"]);
    expect(itemFlags({ n: 3, facility: 0.5, discrimination: 0.4 })).toEqual(["few-responses"]);
  });
});

describe("when the figures do not apply", () => {
  it("has no discrimination for an item everyone got right, nor with one response", () => {
    expect(discrimination({ n: 5, sumMax: 5, sumScore: 5, sumScoreSq: 5, sumRest: 10, sumRestSq: 30, sumScoreRest: 10, timeN: 0, timeSum: 0 })).toBeNull();
    expect(discrimination({ n: 1, sumMax: 1, sumScore: 1, sumScoreSq: 1, sumRest: 2, sumRestSq: 4, sumScoreRest: 2, timeN: 0, timeSum: 0 })).toBeNull();
    expect(facility({ n: 0, sumMax: 0, sumScore: 0 })).toBeNull();
  });

  it("takes facility as Σ score / Σ max when one version was worth different points in different draws", () => {
    // 2 of 2 points in one draw, 1 of 4 in another: 3 of 6 points, 0.5 (n × the newest max, 2 × 4, would say 0.375)
    expect(facility({ n: 2, sumMax: 6, sumScore: 3 })).toBe(0.5);
  });

  it("gives no alpha for pooled assessments, different item sets, one item, one submission or no spread, and says why", () => {
    const items = matrix[0]!.map((_, j) => sumsOf(j));
    expect(cronbachAlpha(items, totalSums, true)).toEqual({ alpha: null, reason: expect.stringContaining("pools") });
    expect(cronbachAlpha([...items.slice(1), { ...items[0]!, n: 9 }], totalSums, false)).toEqual({ alpha: null, reason: expect.stringContaining("same items") });
    expect(cronbachAlpha(items.slice(0, 1), totalSums, false)).toEqual({ alpha: null, reason: expect.stringContaining("two items") });
    expect(cronbachAlpha(items, { n: 1, sumTotal: 8, sumTotalSq: 64 }, false).alpha).toBeNull();
    expect(cronbachAlpha(items, { n: 10, sumTotal: 70, sumTotalSq: 490 }, false)).toEqual({ alpha: null, reason: expect.stringContaining("same total") });
  });
});
