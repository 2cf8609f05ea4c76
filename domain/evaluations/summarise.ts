import { randomInt } from "node:crypto";
import type { EvaluationQuestion } from "../db/schema/index.js";
import { likertPoints } from "./questions.js";

export type ShownQuestionSummary =
  | { id: string; kind: "likert"; prompt: string; n: number; withheld: false; mean: number | null; median: number | null; labels: string[] | null; distribution: { point: number; count: number }[] }
  | { id: string; kind: "choice"; prompt: string; n: number; withheld: false; counts: { option: string; count: number }[] }
  | { id: string; kind: "text"; prompt: string; n: number; withheld: false; answers: string[] };

/** A question fewer than the minimum answered (an optional one): its count only, no figures and no texts. */
export interface WithheldQuestionSummary {
  id: string;
  kind: EvaluationQuestion["kind"];
  prompt: string;
  n: number;
  withheld: true;
}

export type QuestionSummary = ShownQuestionSummary | WithheldQuestionSummary;

/** How often each answer value was given, by question id (values as stored: likert numbers, choice texts). */
export type AnswerCounts = Map<string, Map<string | number, number>>;

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The median of the points 1..n given how often each was chosen (`counts[i]` for point i + 1); null with none. */
export function medianOf(counts: readonly number[]): number | null {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  // The values at 0-based ranks floor((n-1)/2) and ceil((n-1)/2), averaged.
  const at = (rank: number) => {
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i] as number;
      if (rank < seen) return i + 1;
    }
    return counts.length;
  };
  return (at(Math.floor((n - 1) / 2)) + at(Math.ceil((n - 1) / 2))) / 2;
}

/** Fisher–Yates with a cryptographic source: the order says nothing about when (or by whom) an answer was given. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Per question: likert mean, median and distribution; choice counts per option; text the answers, shuffled. Each
 * question has its own n (optional ones may be skipped), so the minimum is applied per question too: a question
 * answered by fewer than `minResponses` shows its n only, else the one or two who answered it would be read off
 * the figures (or their own words) however many answered the evaluation.
 */
export function summarise(
  questions: readonly EvaluationQuestion[],
  counts: AnswerCounts,
  texts: ReadonlyMap<string, readonly string[]>,
  minResponses: number,
): QuestionSummary[] {
  return questions.map((q): QuestionSummary => {
    const summary = figuresOf(q, counts, texts);
    return summary.n < minResponses ? { id: q.id, kind: q.kind, prompt: q.prompt, n: summary.n, withheld: true } : summary;
  });
}

function figuresOf(q: EvaluationQuestion, counts: AnswerCounts, texts: ReadonlyMap<string, readonly string[]>): ShownQuestionSummary {
  const given = counts.get(q.id) ?? new Map<string | number, number>();
  if (q.kind === "likert") {
    const points = likertPoints(q);
    const distribution = Array.from({ length: points }, (_, i) => given.get(i + 1) ?? 0);
    const n = distribution.reduce((a, b) => a + b, 0);
    const sum = distribution.reduce((a, c, i) => a + c * (i + 1), 0);
    return {
      id: q.id,
      kind: "likert",
      prompt: q.prompt,
      n,
      withheld: false,
      mean: n === 0 ? null : round(sum / n),
      median: medianOf(distribution),
      labels: q.options ?? null,
      distribution: distribution.map((count, i) => ({ point: i + 1, count })),
    };
  }
  if (q.kind === "choice") {
    const options = q.options ?? [];
    const tallies = options.map((option) => ({ option, count: given.get(option) ?? 0 }));
    return { id: q.id, kind: "choice", prompt: q.prompt, n: tallies.reduce((a, t) => a + t.count, 0), withheld: false, counts: tallies };
  }
  const answers = shuffled(texts.get(q.id) ?? []);
  return { id: q.id, kind: "text", prompt: q.prompt, n: answers.length, withheld: false, answers };
}
