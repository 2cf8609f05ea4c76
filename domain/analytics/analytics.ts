import { type AnalyticsEvent, analyticsEventTypes, applyEvent, learnerActions } from "./learner-record.js";
import type { CourseAnalytics } from "./figures.js";
import { addDays, type AnalyticsStore, datesBetween, dayOf } from "./store.js";

const folded: ReadonlySet<string> = new Set(analyticsEventTypes);

/** Folds one catalog event into the learner's record (and marks the day active when the learner acted). */
export async function foldEvent(store: AnalyticsStore, event: AnalyticsEvent): Promise<boolean> {
  const courseId = event.data.courseId;
  const learnerId = event.data.userId;
  if (!folded.has(event.type) || typeof courseId !== "string" || typeof learnerId !== "string") return false;
  await store.updateLearner(courseId, learnerId, (r) => applyEvent(r, event));
  if (learnerActions.has(event.type)) await store.markActive(courseId, learnerId, [dayOf(event.occurredAt)]);
  return true;
}

/** Marks a learner active on the days their statements say they worked in each course (one marker per day). */
export async function markStatementDays(store: AnalyticsStore, learnerId: string, days: readonly { courseId: string; date: string }[]): Promise<void> {
  const byCourse = new Map<string, Set<string>>();
  for (const d of days) byCourse.set(d.courseId, (byCourse.get(d.courseId) ?? new Set()).add(d.date));
  await Promise.all([...byCourse].map(([courseId, dates]) => store.markActive(courseId, learnerId, [...dates])));
}

/**
 * Active learners per day over the range: rolled-up days as stored, the others (today, not yet rolled up) counted now.
 * With `only` (a section filter) every day is counted from the markers, since rollups count the whole course.
 */
export async function activeLearnerSeries(store: AnalyticsStore, courseId: string, from: string, to: string, only?: ReadonlySet<string>): Promise<CourseAnalytics["activeLearners"]> {
  const dates = datesBetween(from, to);
  const rolled = new Map(only ? [] : (await store.rollups(courseId, from, to)).map((r) => [r.date, r.activeLearners]));
  const missing = dates.filter((d) => !rolled.has(d));
  const live = new Map<string, Set<string>>();
  if (missing.length > 0) {
    for (const m of await store.activeMarkers(courseId, missing[0] as string, missing[missing.length - 1] as string)) {
      if (only && !only.has(m.learnerId)) continue;
      live.set(m.date, (live.get(m.date) ?? new Set()).add(m.learnerId));
    }
  }
  return dates.map((date) => (rolled.has(date) ? { date, count: rolled.get(date) as number, source: "rollup" as const } : { date, count: live.get(date)?.size ?? 0, source: "live" as const }));
}

/** The nightly rollup for one course: the active-learner count of each given day, stored (idempotent; safe to rerun). */
export async function rollUpCourse(store: AnalyticsStore, courseId: string, dates: readonly string[], now: Date): Promise<number> {
  for (const date of dates) {
    await store.putRollup({ courseId, date, activeLearners: await store.countActive(courseId, date), rolledUpAt: now.toISOString() });
  }
  return dates.length;
}

/** The days the rollup at `now` recomputes: the `days` whole days before today (late statements still count). */
export function rollupDates(now: Date, days: number): string[] {
  const today = dayOf(now);
  return datesBetween(addDays(today, -days), addDays(today, -1));
}
