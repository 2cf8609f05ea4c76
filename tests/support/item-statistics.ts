// Item analysis computed from scratch, from a response matrix (per learner per item: points, max, picked choices),
// the textbook way (means and deviations, no running sums): what the app's incremental figures are checked against.
// Shared by the item-analysis tests and the pooled-quiz journey (pass `null` where a learner did not see an item).

export interface Response {
  points: number;
  /** The points this response was worth when not the matrix's (a pool drew the item at other points). */
  max?: number;
  /** Picked choice ids (true-false as "true"/"false"); empty for other types. */
  picked?: string[];
  seconds?: number;
}

export interface ResponseMatrix {
  itemIds: string[];
  /** Each item's points. */
  max: number[];
  /** learners × items; null when the learner was not presented the item (pools). */
  responses: (Response | null)[][];
}

export interface ExpectedItem {
  itemId: string;
  n: number;
  facility: number | null;
  discrimination: number | null;
  meanSeconds: number | null;
  picks: Record<string, number>;
}

export interface ExpectedAnalysis {
  submissions: number;
  alpha: number | null;
  items: ExpectedItem[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Pearson's r; null when either side does not vary. */
function pearson(xs: number[], ys: number[]): number | null {
  if (xs.length < 2) return null;
  const [mx, my] = [mean(xs), mean(ys)];
  let [sxy, sxx, syy] = [0, 0, 0];
  xs.forEach((x, i) => {
    const y = ys[i] as number;
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  });
  if (sxx < 1e-12 || syy < 1e-12) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Population variance. */
const variance = (xs: number[]) => {
  const m = mean(xs);
  return mean(xs.map((x) => (x - m) ** 2));
};

export function expectedAnalysis(matrix: ResponseMatrix): ExpectedAnalysis {
  const totals = matrix.responses.map((row) => row.reduce((sum, r) => sum + (r?.points ?? 0), 0));
  const items = matrix.itemIds.map((itemId, j): ExpectedItem => {
    const seen = matrix.responses.map((row, l) => ({ r: row[j], total: totals[l] as number })).filter((x): x is { r: Response; total: number } => x.r != null);
    const scores = seen.map((x) => x.r.points);
    const rests = seen.map((x) => x.total - x.r.points);
    const times = seen.flatMap((x) => (x.r.seconds === undefined ? [] : [x.r.seconds]));
    const picks: Record<string, number> = {};
    for (const x of seen) for (const c of x.r.picked ?? []) picks[c] = (picks[c] ?? 0) + 1;
    return {
      itemId,
      n: seen.length,
      // the points scored as a share of the points the responses were worth
      facility: seen.length === 0 ? null : scores.reduce((a, b) => a + b, 0) / seen.reduce((sum, x) => sum + (x.r.max ?? (matrix.max[j] as number)), 0),
      discrimination: pearson(scores, rests),
      meanSeconds: times.length === 0 ? null : mean(times),
      picks,
    };
  });
  const everyoneSawAll = matrix.responses.every((row) => row.every((r) => r != null));
  const k = matrix.itemIds.length;
  const totalVariance = variance(totals);
  const alpha =
    everyoneSawAll && k > 1 && totals.length > 1 && totalVariance > 0
      ? (k / (k - 1)) * (1 - matrix.itemIds.reduce((sum, _, j) => sum + variance(matrix.responses.map((row) => (row[j] as Response).points)), 0) / totalVariance)
      : null;
  return { submissions: totals.length, alpha, items };
}
