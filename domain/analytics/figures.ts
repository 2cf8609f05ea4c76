import type { CourseStructure } from "./course-structure.js";
import type { LearnerRecord } from "./learner-record.js";
import { datesBetween, dayOf } from "./store.js";

export interface GradeSummary {
  graded: number;
  mean: number | null;
  median: number | null;
  /** Share of graded learners at or above the course's pass mark, 0–1. */
  passRate: number | null;
  /** Ten buckets of ten points: [0,10), [10,20) … [90,100]. */
  buckets: { from: number; to: number; count: number }[];
}

export interface CourseAnalytics {
  courseId: string;
  from: string;
  to: string;
  generatedAt: string;
  summary: {
    /** Actively enrolled now. */
    enrolled: number;
    everEnrolled: number;
    dropped: number;
    completed: number;
    /** Completed / ever enrolled, 0–1. */
    completionRate: number;
    /** Mean progress of the actively enrolled, 0–100. */
    averageProgress: number;
  };
  activeLearners: { date: string; count: number; source: "rollup" | "live" }[];
  enrollments: { date: string; enrolled: number; dropped: number; completed: number; total: number }[];
  dropOff: { lessonId: string; title: string; moduleTitle: string; required: boolean; completed: number; completionRate: number; dropOffRate: number; stalledHere: number }[];
  grades: { passPercent: number; overall: GradeSummary; assessments: ({ assessmentId: string; title: string } & GradeSummary)[] };
}

const ratio = (n: number, d: number): number => (d === 0 ? 0 : Math.round((n / d) * 10_000) / 10_000);
const round2 = (n: number): number => Math.round(n * 100) / 100;

export function gradeSummary(percents: readonly number[], passPercent: number): GradeSummary {
  const buckets = Array.from({ length: 10 }, (_, i) => ({ from: i * 10, to: i * 10 + 10, count: 0 }));
  for (const p of percents) (buckets[Math.min(9, Math.max(0, Math.floor(p / 10)))] as { count: number }).count += 1;
  if (percents.length === 0) return { graded: 0, mean: null, median: null, passRate: null, buckets };
  const sorted = [...percents].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    graded: percents.length,
    mean: round2(percents.reduce((s, p) => s + p, 0) / percents.length),
    median: round2(median),
    passRate: ratio(percents.filter((p) => p >= passPercent).length, percents.length),
    buckets,
  };
}

/**
 * The course's figures from its learner records (kept by the `activity` subscription) and the
 * active-learner counts per day (rolled up nightly, counted live for days not rolled up yet).
 */
export function courseFigures(
  structure: CourseStructure,
  learners: readonly LearnerRecord[],
  activeLearners: CourseAnalytics["activeLearners"],
  range: { from: string; to: string },
  now: Date,
): CourseAnalytics {
  const ever = learners.filter((l) => l.enrolledAt !== null);
  const active = ever.filter((l) => l.status === "active");
  const completed = ever.filter((l) => l.completedAt !== null);

  const endOf = (date: string) => `${date}T23:59:59.999Z`;
  const enrollments = datesBetween(range.from, range.to).map((date) => ({
    date,
    enrolled: ever.filter((l) => dayOf(l.enrolledAt as string) === date).length,
    dropped: ever.filter((l) => l.status === "dropped" && l.droppedAt !== null && dayOf(l.droppedAt) === date).length,
    completed: completed.filter((l) => dayOf(l.completedAt as string) === date).length,
    total: ever.filter((l) => (l.enrolledAt as string) <= endOf(date) && !(l.status === "dropped" && l.droppedAt !== null && l.droppedAt <= endOf(date))).length,
  }));

  // Drop-off: how many reached each lesson in course order, and where the unfinished learners stopped.
  const position = new Map(structure.lessons.map((l, i) => [l.lessonId, i]));
  const completedPer = structure.lessons.map((l) => ever.filter((r) => r.lessonsCompleted.includes(l.lessonId)).length);
  const stalled = structure.lessons.map(() => 0);
  for (const r of active) {
    if (r.completedAt !== null) continue;
    const furthest = Math.max(-1, ...r.lessonsCompleted.map((id) => position.get(id) ?? -1));
    if (furthest + 1 < stalled.length) stalled[furthest + 1] = (stalled[furthest + 1] as number) + 1;
  }
  const dropOff = structure.lessons.map((l, i) => {
    const before = i === 0 ? ever.length : (completedPer[i - 1] as number);
    const done = completedPer[i] as number;
    return { ...l, completed: done, completionRate: ratio(done, ever.length), dropOffRate: ratio(Math.max(0, before - done), before), stalledHere: stalled[i] as number };
  });

  const perAssessment = structure.assessments.map((a) => ({
    ...a,
    ...gradeSummary(
      ever.flatMap((r) => (r.grades[a.assessmentId] ? [(r.grades[a.assessmentId] as { percent: number }).percent] : [])),
      structure.passPercent,
    ),
  }));
  const known = new Set(structure.assessments.map((a) => a.assessmentId));
  const overall = gradeSummary(
    ever.flatMap((r) => Object.entries(r.grades).flatMap(([id, g]) => (known.has(id) ? [g.percent] : []))),
    structure.passPercent,
  );

  return {
    courseId: structure.courseId,
    from: range.from,
    to: range.to,
    generatedAt: now.toISOString(),
    summary: {
      enrolled: active.length,
      everEnrolled: ever.length,
      dropped: ever.filter((l) => l.status === "dropped").length,
      completed: completed.length,
      completionRate: ratio(completed.length, ever.length),
      averageProgress: active.length === 0 ? 0 : round2(active.reduce((s, l) => s + (l.progress?.percent ?? 0), 0) / active.length),
    },
    activeLearners,
    enrollments,
    dropOff,
    grades: { passPercent: structure.passPercent, overall, assessments: perAssessment },
  };
}
