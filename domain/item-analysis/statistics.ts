// Classical test theory figures from running sums (what item_stats and assessment_stats keep), so nothing is read
// per learner at report time. Variances are population variances (divided by n): alpha's ratio and the Pearson
// correlation are the same with either denominator, and the sums make this one exact.

/** The running sums of one item version: scores, rest scores (total minus the item), their cross product, time. */
export interface ItemSums {
  n: number;
  /** Σ of each counted response's max points (the same version can be worth different points in different draws). */
  sumMax: number;
  sumScore: number;
  sumScoreSq: number;
  sumRest: number;
  sumRestSq: number;
  sumScoreRest: number;
  timeN: number;
  timeSum: number;
}

export interface TotalSums {
  n: number;
  sumTotal: number;
  sumTotalSq: number;
}

// Double-precision sums still round (n·Σx² − (Σx)² cancels, and regrades subtract what they added): a spread this
// small is no spread.
const EPSILON = 1e-9;

/** n·Σx² − (Σx)², clamped at zero (rounding can push a constant column's slightly below). */
const spread = (n: number, sum: number, sumSq: number) => Math.max(0, n * sumSq - sum * sum);

/** Population variance from sums; 0 with no data. */
export const varianceOf = (n: number, sum: number, sumSq: number): number => (n > 0 ? spread(n, sum, sumSq) / (n * n) : 0);

/** Facility (the p-value): the points scored as a share of the points the responses were worth (Σ score / Σ max). */
export const facility = (s: Pick<ItemSums, "n" | "sumScore" | "sumMax">): number | null => (s.n > 0 && s.sumMax > 0 ? s.sumScore / s.sumMax : null);

/**
 * Discrimination: the point-biserial (Pearson) correlation of the item's score with the rest score (the corrected
 * item-total correlation). Null when either does not vary (everyone right, or one response): no correlation exists.
 */
export function discrimination(s: ItemSums): number | null {
  if (s.n < 2) return null;
  const sx = spread(s.n, s.sumScore, s.sumScoreSq);
  const sy = spread(s.n, s.sumRest, s.sumRestSq);
  if (sx <= EPSILON * s.n * s.n || sy <= EPSILON * s.n * s.n) return null;
  const r = (s.n * s.sumScoreRest - s.sumScore * s.sumRest) / Math.sqrt(sx * sy);
  return Math.max(-1, Math.min(1, r));
}

export const meanSeconds = (s: ItemSums): number | null => (s.timeN > 0 ? s.timeSum / s.timeN : null);

export type AlphaResult = { alpha: number; reason: null } | { alpha: null; reason: string };

/**
 * Cronbach's alpha = k/(k−1)·(1 − Σ item variances / total variance). Only meaningful when every counted
 * submission answered the same k items: with pools (or items changed between submissions) it is null, with why.
 */
export function cronbachAlpha(items: Pick<ItemSums, "n" | "sumScore" | "sumScoreSq">[], total: TotalSums, drawsItems: boolean): AlphaResult {
  if (drawsItems) return { alpha: null, reason: "Items are drawn from pools, so submissions did not all answer the same items." };
  if (total.n < 2) return { alpha: null, reason: "Fewer than two submissions are counted." };
  if (items.some((i) => i.n !== total.n)) return { alpha: null, reason: "Not every counted submission answered the same items (the items changed between submissions)." };
  const k = items.length;
  if (k < 2) return { alpha: null, reason: "Alpha needs at least two items." };
  const totalVariance = varianceOf(total.n, total.sumTotal, total.sumTotalSq);
  if (totalVariance <= EPSILON) return { alpha: null, reason: "Every submission has the same total score." };
  const itemVariance = items.reduce((sum, i) => sum + varianceOf(i.n, i.sumScore, i.sumScoreSq), 0);
  return { alpha: (k / (k - 1)) * (1 - itemVariance / totalVariance), reason: null };
}

export const itemFlagKinds = ["negative-discrimination", "too-hard", "too-easy", "unpicked-distractor", "few-responses"] as const;
export type ItemFlag = (typeof itemFlagKinds)[number];

/** Below this many responses the figures are noisy: said as a note, not a fault of the item. */
const FEW_RESPONSES = 10;

/**
 * What a psychometrician would look at: negative discrimination, p < 0.2 (too hard), p > 0.95 (too easy), a wrong
 * choice nobody picked (it distracts no one), and few responses (a note on every other figure).
 */
export function itemFlags(figures: { n: number; facility: number | null; discrimination: number | null; choices?: { correct: boolean; picks: number }[] }): ItemFlag[] {
  const flags: ItemFlag[] = [];
  if (figures.discrimination !== null && figures.discrimination < 0) flags.push("negative-discrimination");
  if (figures.facility !== null && figures.facility < 0.2) flags.push("too-hard");
  if (figures.facility !== null && figures.facility > 0.95) flags.push("too-easy");
  if (figures.n > 0 && figures.choices?.some((c) => !c.correct && c.picks === 0)) flags.push("unpicked-distractor");
  if (figures.n < FEW_RESPONSES) flags.push("few-responses");
  return flags;
}
