import type { ItemScore, LatePolicy, ScoringPolicy, Step } from "../db/schema/assessment-json.js";

export type { LatePolicy, ScoringPolicy, Step } from "../db/schema/assessment-json.js";

export interface AttemptResult {
  attemptId: string;
  submittedAt: Date;
  items: ItemScore[];
}

export interface GradeInput {
  attempts: AttemptResult[];
  due: Date | null;
  /** A per-learner extension moves the due time for this learner. */
  extendedDue?: Date | null;
  late: LatePolicy;
  scoring: ScoringPolicy;
  /** How the assessment counts in the course grade, for the last step of the explanation. */
  contribution?: { category: string; categoryWeightPercent: number; itemsInCategory: number };
}

export interface FinalGrade {
  /** pending while a manual item of a counted attempt has no score yet. */
  status: "final" | "pending";
  percent: number | null;
  coursePercent: number | null;
  steps: Step[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function latePercent(raw: number, submittedAt: Date, deadline: Date | null, policy: LatePolicy): { value: number; detail: string } {
  if (!deadline || submittedAt <= deadline || policy.kind === "none") {
    return { value: raw, detail: deadline && submittedAt > deadline ? "late, but the assessment has no late penalty" : "on time" };
  }
  const lateMs = submittedAt.getTime() - deadline.getTime();
  if (policy.kind === "no-late-work") return { value: 0, detail: "submitted after the due time; late work is not accepted" };
  const unitMs = policy.kind === "per-hour" ? 3_600_000 : 86_400_000;
  const units = Math.ceil(lateMs / unitMs);
  const multiplier = Math.max(1 - (units * policy.percent) / 100, policy.floorPercent / 100);
  const unit = policy.kind === "per-hour" ? "hour" : "day";
  return {
    value: round2(raw * multiplier),
    detail: `${units} ${unit}${units === 1 ? "" : "s"} late: −${policy.percent}% per ${unit}, at least ${policy.floorPercent}% of the raw score kept (×${round2(multiplier)})`,
  };
}

/**
 * The grade of one learner on one assessment, as a pure function of their attempts and the assessment's
 * rules, with every step explained: raw score → late deduction → scoring policy across attempts →
 * contribution to the course grade.
 */
export function finalGrade(input: GradeInput): FinalGrade {
  const steps: Step[] = [];
  const deadline = input.extendedDue ?? input.due;
  const scored: { attemptId: string; submittedAt: Date; value: number | null }[] = [];
  for (const attempt of input.attempts) {
    const max = attempt.items.reduce((s, i) => s + i.maxPoints, 0);
    if (attempt.items.some((i) => i.points === null)) {
      steps.push({ step: "raw", attemptId: attempt.attemptId, detail: "waits for a grader", value: NaN });
      scored.push({ attemptId: attempt.attemptId, submittedAt: attempt.submittedAt, value: null });
      continue;
    }
    const points = attempt.items.reduce((s, i) => s + (i.points ?? 0), 0);
    const raw = max === 0 ? 0 : round2((points / max) * 100);
    steps.push({ step: "raw", attemptId: attempt.attemptId, detail: `${round2(points)} of ${round2(max)} points`, value: raw });
    const late = latePercent(raw, attempt.submittedAt, deadline, input.late);
    steps.push({ step: "late", attemptId: attempt.attemptId, detail: late.detail, value: late.value });
    scored.push({ attemptId: attempt.attemptId, submittedAt: attempt.submittedAt, value: late.value });
  }
  if (scored.length === 0) return { status: "final", percent: 0, coursePercent: input.contribution ? 0 : null, steps: [{ step: "policy", detail: "no attempt submitted", value: 0 }] };

  // The latest attempt decides under "latest"; a pending one only matters where it could count.
  const latest = [...scored].sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime()).at(-1);
  const counted = input.scoring === "latest" && latest ? [latest] : scored;
  if (counted.some((s) => s.value === null)) return { status: "pending", percent: null, coursePercent: null, steps };
  const values = counted.map((s) => s.value as number);
  const percent =
    input.scoring === "highest" ? Math.max(...values) : input.scoring === "latest" ? (values[0] as number) : round2(values.reduce((a, b) => a + b, 0) / values.length);
  steps.push({
    step: "policy",
    detail: input.scoring === "highest" ? `highest of ${values.length} attempt(s)` : input.scoring === "latest" ? "the latest attempt" : `average of ${values.length} attempt(s)`,
    value: percent,
  });
  let coursePercent: number | null = null;
  if (input.contribution) {
    const c = input.contribution;
    coursePercent = round2((percent * c.categoryWeightPercent) / 100 / Math.max(1, c.itemsInCategory));
    steps.push({
      step: "contribution",
      detail: `${c.category} weighs ${c.categoryWeightPercent}% of the course, shared by ${c.itemsInCategory} item(s): ${coursePercent} course points`,
      value: coursePercent,
    });
  }
  return { status: "final", percent, coursePercent, steps };
}
